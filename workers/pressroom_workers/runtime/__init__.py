"""The model runtime: loads each configured model once per process and executes
runtime requests from many jobs as batched model calls."""
from pressroom_workers.runtime.engine import ModelRuntime, RequestFailed, get_runtime

__all__ = ["ModelRuntime", "RequestFailed", "get_runtime"]
