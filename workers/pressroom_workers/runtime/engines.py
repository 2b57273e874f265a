"""Which engine serves a model alias. Text models choose per alias (`engine` in the
alias's settings); "auto" takes llama.cpp on a CPU worker when the model folder holds a
GGUF file and llama-cpp-python is installed, and transformers otherwise (the GPU default)."""
from __future__ import annotations

import importlib.util
from importlib import import_module

import torch

from pressroom_workers.runtime.backends import BACKENDS, Backend
from pressroom_workers.runtime.sources import ModelNotAvailable, ModelSpec, gguf_file, local_folder

TEXT_ENGINES = {
    "transformers": "pressroom_workers.runtime.backends:TextGenerationBackend",
    "llama.cpp": "pressroom_workers.runtime.llamacpp:LlamaCppEngine",
    "openai": "pressroom_workers.runtime.openai_engine:OpenAIEngine",
}


def text_engine_name(spec: ModelSpec, device: torch.device) -> str:
    if spec.engine != "auto":
        if spec.engine not in TEXT_ENGINES:
            raise ModelNotAvailable(f"Model {spec.alias!r}: unknown engine {spec.engine!r} (known: {', '.join(TEXT_ENGINES)})")
        return spec.engine
    folder = local_folder(spec)
    on_cpu = device.type == "cpu"
    if on_cpu and folder is not None and gguf_file(folder) and importlib.util.find_spec("llama_cpp"):
        return "llama.cpp"
    return "transformers"


def backend_class(spec: ModelSpec, device: torch.device) -> type[Backend]:
    if spec.task not in BACKENDS:
        raise ModelNotAvailable(f"Model {spec.alias!r} has unknown task {spec.task!r} (known: {', '.join(BACKENDS)})")
    if spec.task != "text-generation":
        return BACKENDS[spec.task]
    module, name = TEXT_ENGINES[text_engine_name(spec, device)].split(":")
    return getattr(import_module(module), name)
