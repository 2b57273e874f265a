"""OpenAI-compatible engine: text models served by an inference server over HTTP (vLLM,
SGLang, TGI, llama.cpp's server, llama-cpp-python's server, Ollama, `transformers serve`).

Every item is its own POST {base_url}/chat/completions. The items of a call are all sent
at once (up to `max_in_flight` per engine, across every caller), so the server's
continuous batching decodes them together. The requests run as asyncio tasks on one
event-loop thread with one shared httpx.AsyncClient: abandoning a request (its jobs were
cancelled, or a sibling failed for good) cancels its task, which closes its connection,
and the servers above stop generating for a client that went away.

Settings of an alias (`PRESSROOM["MODELS"][alias]`, or the PRESSROOM_MODELS env JSON):

    {"task": "text-generation", "engine": "openai",
     "base_url": "http://127.0.0.1:8000/v1",   # required
     "model": "Qwen/Qwen2.5-7B-Instruct",       # the name the server knows; optional when it serves one model
     "api_key_env": "VLLM_API_KEY",             # or "api_key": "..." (sent as a Bearer token)
     "timeout": 300, "connect_timeout": 10, "max_in_flight": 16,
     "max_retries": 4, "retry_backoff": 0.5, "retry_backoff_max": 30,
     "extra_body": {"top_k": 20}}               # merged into every request body

429, 408, 5xx, timeouts and connection errors are retried with exponential backoff
(a Retry-After header is honoured); once the retries are spent the request fails as
transient (the job is retried later). Any other 4xx fails at once with the server's message.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
import dataclasses
import email.utils
import logging
import os
import random
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from pressroom_workers.runtime.backends import Backend, StopCheck, TextItem, TextResult, _never
from pressroom_workers.runtime.sources import ModelNotAvailable, ModelSpec, ResolvedSource

logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 300.0
DEFAULT_CONNECT_TIMEOUT = 10.0
DEFAULT_MAX_IN_FLIGHT = 16
DEFAULT_MAX_RETRIES = 4
DEFAULT_RETRY_BACKOFF = 0.5
DEFAULT_RETRY_BACKOFF_MAX = 30.0
# How often a waiting caller asks `should_stop`.
STOP_POLL_SECONDS = 0.05
# Statuses worth another try: rate limited, request timeout, and the server's own trouble.
TRANSIENT_STATUSES = frozenset({408, 429}) | frozenset(range(500, 600))
# How much of a server's error body goes into a message.
MAX_ERROR_CHARS = 500


def _request_failed(message: str, *, transient: bool) -> Exception:
    # engine.py imports the engines module by name only when a model loads: by then it is
    # fully imported, so this late import never goes round in a circle.
    from pressroom_workers.runtime.engine import RequestFailed

    return RequestFailed(message, transient=transient)


@dataclass(frozen=True)
class ServerSettings:
    """An alias's settings for this engine, checked once at load."""

    alias: str
    base_url: str
    model: str | None
    api_key: str | None = field(default=None, repr=False)
    timeout: float = DEFAULT_TIMEOUT
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    max_in_flight: int = DEFAULT_MAX_IN_FLIGHT
    max_retries: int = DEFAULT_MAX_RETRIES
    retry_backoff: float = DEFAULT_RETRY_BACKOFF
    retry_backoff_max: float = DEFAULT_RETRY_BACKOFF_MAX
    extra_body: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_options(cls, alias: str, options: dict[str, Any]) -> ServerSettings:
        def problem(text: str) -> ModelNotAvailable:
            return ModelNotAvailable(f"Model {alias!r} (engine 'openai'): {text}")

        base_url = str(options.get("base_url") or "").strip().rstrip("/")
        if not base_url:
            raise problem('set "base_url" to the server\'s OpenAI-compatible API, e.g. "http://127.0.0.1:8000/v1"')
        try:
            url = httpx.URL(base_url)
        except httpx.InvalidURL as error:
            raise problem(f"base_url {base_url!r} is not a URL ({error})") from error
        if url.scheme not in ("http", "https") or not url.host:
            raise problem(f"base_url {base_url!r} must be an http:// or https:// address")

        api_key = options.get("api_key")
        key_env = options.get("api_key_env")
        if key_env and not api_key:
            api_key = os.environ.get(str(key_env))
            if not api_key:
                raise problem(f"api_key_env names {key_env!r}, which is not set in this worker's environment")

        def number(name: str, default: float, kind: type = float, minimum: float = 0) -> Any:
            raw = options.get(name)
            if raw is None:
                return default
            try:
                value = kind(raw)
            except (TypeError, ValueError) as error:
                raise problem(f"{name} must be a number, not {raw!r}") from error
            if value < minimum:
                raise problem(f"{name} must be at least {minimum}, not {raw!r}")
            return value

        extra_body = options.get("extra_body") or {}
        if not isinstance(extra_body, dict):
            raise problem(f"extra_body must be a JSON object, not {extra_body!r}")
        return cls(
            alias=alias,
            base_url=base_url,
            model=str(options["model"]) if options.get("model") else None,
            api_key=str(api_key) if api_key else None,
            timeout=number("timeout", DEFAULT_TIMEOUT, minimum=0.001),
            connect_timeout=number("connect_timeout", DEFAULT_CONNECT_TIMEOUT, minimum=0.001),
            max_in_flight=number("max_in_flight", DEFAULT_MAX_IN_FLIGHT, int, minimum=1),
            max_retries=number("max_retries", DEFAULT_MAX_RETRIES, int),
            retry_backoff=number("retry_backoff", DEFAULT_RETRY_BACKOFF),
            retry_backoff_max=number("retry_backoff_max", DEFAULT_RETRY_BACKOFF_MAX),
            extra_body=dict(extra_body),
        )


class _TryAgain(Exception):
    """One attempt met a transient problem."""

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


def retry_after_seconds(value: str | None) -> float | None:
    """A Retry-After header: delay seconds, or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if moment is None:
        return None
    return max(0.0, moment.timestamp() - time.time())


def server_message(response: httpx.Response) -> str:
    """The error a server gave, from the usual shapes of error bodies."""
    try:
        body = response.json()
    except ValueError:
        body = None
    message: Any = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict):
            message = error.get("message")
        elif isinstance(error, str):
            message = error
        message = message or body.get("message") or body.get("detail")
    if not message:
        message = response.text
    message = str(message).strip() or response.reason_phrase
    return message[:MAX_ERROR_CHARS] + ("..." if len(message) > MAX_ERROR_CHARS else "")


class _EventLoop:
    """An asyncio loop on its own daemon thread, for one engine's requests."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name=name, daemon=True)
        self.thread.start()

    def submit(self, coroutine: Any) -> concurrent.futures.Future:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def stop(self) -> None:
        if self.loop.is_running():
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(timeout=5)


class OpenAIEngine(Backend):
    task = "text-generation"
    engine = "openai"
    # Calls from many threads share the in-flight cap; the server batches them.
    concurrent = True

    def __init__(self, resolved: ResolvedSource, device: Any, dtype: Any, *, server: ServerSettings,
                 model_id: str, pinned_revision: str | None = None) -> None:
        # The weights, their device and precision are the server's business.
        super().__init__(resolved, "remote", "remote")
        self.server = server
        self.endpoint = server.base_url
        # What requests ask for (the configured name, or the one model the server lists);
        # model_id follows what the server's answers say.
        self.request_model = server.model or model_id
        self.model_id = model_id
        # Read by tests and the benchmark: HTTP attempts made, and the most at once.
        self.attempts = 0
        self.in_flight = 0
        self.peak_in_flight = 0
        self._pinned_revision = pinned_revision
        self._id_lock = threading.Lock()
        self._start()

    def _start(self) -> None:
        self._pid = os.getpid()
        self._loop = _EventLoop(f"pressroom-openai-{self.server.alias}")
        self._client: httpx.AsyncClient | None = None
        self._slots: asyncio.Semaphore | None = None
        self._submit_sync(self._open())

    # -- loading -------------------------------------------------------------
    @classmethod
    def from_spec(cls, spec: ModelSpec, device: Any, dtype: Any) -> OpenAIEngine:
        server = ServerSettings.from_options(spec.alias, spec.options)
        model_id = cls._discover_model(server)
        resolved = ResolvedSource(path=Path("."), source=server.base_url,
                                  revision=spec.revision or model_id, placeholder=False)
        return cls(resolved, device, dtype, server=server, model_id=model_id, pinned_revision=spec.revision)

    @staticmethod
    def _headers(server: ServerSettings) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": "pressroom-worker"}
        if server.api_key:
            headers["Authorization"] = f"Bearer {server.api_key}"
        return headers

    @classmethod
    def _discover_model(cls, server: ServerSettings) -> str:
        """The model to ask for, from GET /models. A server that is down now may be up by
        the first request: with a configured model the load goes on; without one it fails
        as transient (the job is retried, and the load with it). A wrong key or an
        ambiguous model name are the settings' fault and fail for good."""
        try:
            with httpx.Client(timeout=min(server.timeout, server.connect_timeout),
                              headers=cls._headers(server)) as client:
                response = client.get(f"{server.base_url}/models")
        except httpx.HTTPError as error:
            if server.model:
                logger.warning("Model %s: could not list %s/models (%s); asking for %r regardless",
                               server.alias, server.base_url, error, server.model)
                return server.model
            raise _request_failed(
                f"Model {server.alias!r} (engine 'openai'): the server at {server.base_url} cannot be reached "
                f"({type(error).__name__}) and no \"model\" is set to ask it for",
                transient=True,
            ) from error
        if response.status_code in (401, 403):
            raise ModelNotAvailable(
                f"Model {server.alias!r} (engine 'openai'): {server.base_url} refused the API key "
                f"({response.status_code}: {server_message(response)}); check api_key / api_key_env"
            )
        served: list[str] = []
        if response.status_code == 200:
            try:
                served = [str(entry["id"]) for entry in response.json().get("data", []) if entry.get("id")]
            except (ValueError, AttributeError, TypeError, KeyError):
                served = []
        if server.model:
            if served and server.model not in served:
                logger.warning("Model %s: %s serves %s, not %r (sending it anyway: some servers map names)",
                               server.alias, server.base_url, ", ".join(served), server.model)
            return server.model
        if len(served) == 1:
            return served[0]
        if response.status_code in TRANSIENT_STATUSES:
            raise _request_failed(
                f"Model {server.alias!r} (engine 'openai'): {server.base_url}/models answered "
                f"HTTP {response.status_code} ({server_message(response)}) and no \"model\" is set",
                transient=True,
            )
        raise ModelNotAvailable(
            f"Model {server.alias!r} (engine 'openai'): set \"model\" to the name the server knows"
            + (f" (it serves: {', '.join(served)})" if served else f" ({server.base_url}/models listed none)")
        )

    async def _open(self) -> None:
        server = self.server
        self._client = httpx.AsyncClient(
            base_url=server.base_url + "/",
            headers=self._headers(server),
            timeout=httpx.Timeout(server.timeout, connect=server.connect_timeout),
            limits=httpx.Limits(max_connections=server.max_in_flight,
                                max_keepalive_connections=server.max_in_flight),
        )
        self._slots = asyncio.Semaphore(server.max_in_flight)

    def _submit_sync(self, coroutine: Any) -> Any:
        return self._loop.submit(coroutine).result()

    def close(self) -> None:
        """Close the connections and stop the loop thread (tests; workers simply exit)."""
        if self._client is not None and self._loop.loop.is_running():
            self._submit_sync(self._client.aclose())
        self._loop.stop()

    # -- the caller's side ---------------------------------------------------
    def run(self, items: list[TextItem], params: dict[str, Any], should_stop: StopCheck = _never) -> list[TextResult]:
        """One result per item, in order. Waits for the server, asking `should_stop` as it
        waits: once it says so, the outstanding requests are abandoned (their connections
        closed) and their items come back empty with finish_reason "cancelled"."""
        if os.getpid() != self._pid:
            # Loaded before a fork: the loop thread and connections stayed with the parent.
            with self._id_lock:
                if os.getpid() != self._pid:
                    self._start()
        results: list[TextResult | None] = [None] * len(items)
        future = self._loop.submit(self._complete_all(items, results))
        while True:
            try:
                future.result(timeout=STOP_POLL_SECONDS)
                return [result for result in results if result is not None]
            except concurrent.futures.TimeoutError:
                if should_stop():
                    future.cancel()
                    logger.info("Model %s: abandoned %d outstanding requests (cancelled)", self.server.alias,
                                sum(result is None for result in results))
                    return [result or TextResult("", 0, 0, "cancelled") for result in results]

    async def _complete_all(self, items: list[TextItem], results: list[TextResult | None]) -> None:
        async def one(index: int, item: TextItem) -> None:
            results[index] = await self._complete(item)

        tasks = [asyncio.ensure_future(one(index, item)) for index, item in enumerate(items)]
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            failed = next((task for task in tasks if task in done and task.exception() is not None), None)
            if failed is not None:
                # The call fails as a whole: stop spending the server's time on the others.
                raise failed.exception()
        finally:
            for task in tasks:
                task.cancel()
            # Let the cancelled requests close their connections before the call returns.
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- one item ------------------------------------------------------------
    def _body(self, item: TextItem) -> dict[str, Any]:
        body: dict[str, Any] = {
            **self.server.extra_body,
            "model": self.request_model,
            "messages": item.messages(),
            "max_tokens": item.max_new_tokens,
            "temperature": item.temperature,
            "top_p": item.top_p,
            "stream": False,
        }
        if item.seed is not None:
            body["seed"] = item.seed
        if item.stop:
            body["stop"] = list(item.stop)
        return body

    def _backoff(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return retry_after
        delay = min(self.server.retry_backoff * (2 ** attempt), self.server.retry_backoff_max)
        return delay * random.uniform(0.8, 1.2)  # jitter: many workers do not retry in step

    async def _complete(self, item: TextItem) -> TextResult:
        body = self._body(item)
        server = self.server
        reason = ""
        for attempt in range(server.max_retries + 1):
            try:
                return await self._attempt(body)
            except _TryAgain as again:
                reason, retry_after = again.reason, again.retry_after
            if attempt == server.max_retries:
                break
            delay = self._backoff(attempt, retry_after)
            if retry_after is not None and retry_after > server.retry_backoff_max:
                # The server asks for a longer pause than a worker should hold a batch:
                # the job's own retry (with its own backoff) comes back later.
                raise _request_failed(
                    f"Model {server.alias!r}: {server.base_url} asks to retry after {delay:.0f}s ({reason})",
                    transient=True,
                )
            logger.warning("Model %s: %s; retry %d of %d in %.2fs", server.alias, reason, attempt + 1,
                           server.max_retries, delay)
            await asyncio.sleep(delay)
        raise _request_failed(
            f"Model {server.alias!r}: {server.base_url} failed {server.max_retries + 1} times; last: {reason}",
            transient=True,
        )

    async def _attempt(self, body: dict[str, Any]) -> TextResult:
        assert self._client is not None and self._slots is not None
        async with self._slots:
            self.attempts += 1
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
            try:
                response = await self._client.post("chat/completions", json=body)
            except httpx.TimeoutException as error:
                raise _TryAgain(f"timed out ({type(error).__name__})") from error
            except httpx.TransportError as error:
                raise _TryAgain(f"connection failed ({type(error).__name__}: {error})") from error
            finally:
                self.in_flight -= 1
        if response.status_code in TRANSIENT_STATUSES:
            raise _TryAgain(f"HTTP {response.status_code}: {server_message(response)}",
                            retry_after_seconds(response.headers.get("Retry-After")))
        if response.status_code != 200:
            raise _request_failed(
                f"Model {self.server.alias!r}: {self.server.base_url} refused the request "
                f"(HTTP {response.status_code}): {server_message(response)}",
                transient=False,
            )
        return self._result(response)

    def _result(self, response: httpx.Response) -> TextResult:
        try:
            payload = response.json()
            choice = payload["choices"][0]
            text = (choice.get("message") or {}).get("content") or ""
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as error:
            raise _request_failed(
                f"Model {self.server.alias!r}: {self.server.base_url} answered without a chat completion "
                f"({type(error).__name__}): {response.text[:MAX_ERROR_CHARS]}",
                transient=False,
            ) from error
        self._note_model_id(payload.get("model"))
        usage = payload.get("usage") or {}
        finish = "length" if choice.get("finish_reason") == "length" else "stop"
        return TextResult(text.strip(), int(usage.get("completion_tokens") or 0),
                          int(usage.get("prompt_tokens") or 0), finish)

    def _note_model_id(self, reported: Any) -> None:
        """Provenance names the model the server says answered."""
        if not reported or reported == self.model_id:
            return
        with self._id_lock:
            self.model_id = str(reported)
            if self._pinned_revision is None:
                self.resolved = dataclasses.replace(self.resolved, revision=self.model_id)
