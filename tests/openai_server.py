"""A scripted OpenAI-compatible server for tests (stdlib only, 127.0.0.1, free port, in a thread).

It serves ``POST /v1/chat/completions`` (streaming SSE and non-streaming), ``GET /v1/models`` and
``POST /v1/embeddings`` (deterministic unit vectors). Each chat request consumes the next step of a script:

>>> server = ScriptedOpenAIServer(models=("test-model",)).start()
>>> server.push(tool_calls(("search_catalog", {"description": "space horror"})), final({"items": []}))
>>> server.base_url  # pass to ChatOpenAI(base_url=...)
'http://127.0.0.1:PORT/v1'

Steps are built with :func:`text`, :func:`tool_calls`, :func:`final`, :func:`error` and :func:`delayed`;
a step may also be a callable ``(request_body) -> step`` for answers that depend on the conversation
(for example, proposing item ids read back from the tool results). Every request body is kept in
``server.requests``; ``server.handling_s`` sums the server's own time (sleeps included) so a benchmark can
subtract it from a client's wall time.

A pytest fixture (as ``tests/test_agent_llm.py`` defines it)::

    @pytest.fixture
    def openai_server():
        with ScriptedOpenAIServer() as server:
            yield server
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

__all__ = [
    "ScriptedOpenAIServer",
    "estimate_tokens",
    "Step",
    "delayed",
    "error",
    "final",
    "text",
    "tool_calls",
]

FINAL_TOOL = "RecommendationList"  # the structured-output tool name the LLM agent binds


@dataclass
class Step:
    """One scripted answer to a chat-completions request.

    Attributes:
        content: assistant text ("" for none).
        calls: ``(name, arguments)`` pairs; a ``str`` argument is sent verbatim (malformed JSON tests).
        status: HTTP status; anything but 200 sends an OpenAI-style error body.
        message: the error message for a non-200 status.
        delay_s: seconds to wait before answering (timeouts, latency).
        headers: extra response headers (``retry-after-ms`` keeps retry tests fast).
        reasoning: hidden reasoning sent as ``reasoning_content`` (as vLLM and DeepSeek-style servers do).
        piece_chars: when streaming, send the content in pieces of this many characters (token by token)
            instead of word by word.
    """

    content: str = ""
    calls: list[tuple[str, Any]] = field(default_factory=list)
    status: int = 200
    message: str = ""
    delay_s: float = 0.0
    headers: dict[str, str] = field(default_factory=dict)
    reasoning: str = ""
    piece_chars: int = 0


ScriptItem = Step | Callable[[dict[str, Any]], Step]


def text(content: str) -> Step:
    """A plain assistant message (no tool call)."""
    return Step(content=content)


def tool_calls(*calls: tuple[str, Any], content: str = "") -> Step:
    """One assistant message with one or more (parallel) tool calls: ``(name, args dict or raw str)``."""
    return Step(content=content, calls=list(calls))


def final(answer: Mapping[str, Any] | str, *, name: str = FINAL_TOOL) -> Step:
    """The agent's structured final answer, sent as a call of the structured-output tool."""
    return Step(calls=[(name, answer if isinstance(answer, str) else dict(answer))])


def error(status: int, message: str = "", *, retry_after_ms: int | None = 5) -> Step:
    """An HTTP error (500, 429, 404, ...); ``retry_after_ms`` tells the client how long to back off."""
    headers = {} if retry_after_ms is None else {"retry-after-ms": str(retry_after_ms)}
    return Step(status=status, message=message or f"scripted error {status}", headers=headers)


def delayed(seconds: float, step: Step) -> Step:
    """``step`` answered after ``seconds`` (a copy; the original is not changed)."""
    return replace(step, calls=list(step.calls), delay_s=seconds, headers=dict(step.headers))


def _error_type(status: int) -> tuple[str, str | None]:
    if status == 404:
        return "invalid_request_error", "model_not_found"
    if status == 429:
        return "rate_limit_error", "rate_limit_exceeded"
    if status == 401:
        return "authentication_error", "invalid_api_key"
    if status >= 500:
        return "server_error", None
    return "invalid_request_error", None


def estimate_tokens(body: Mapping[str, Any]) -> int:
    """Prompt tokens of a chat request, estimated as a quarter of the characters of its messages and tool
    schemas in JSON (the usual rule of thumb for English and JSON with OpenAI-style tokenizers)."""
    payload = {"messages": body.get("messages", []), "tools": body.get("tools", [])}
    sent = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return max(1, len(sent) // 4)


def embedding_for(text_value: str, dim: int = 384) -> list[float]:
    """A deterministic unit vector for ``text_value`` (same text -> same vector)."""
    seed = int.from_bytes(hashlib.sha256(text_value.encode("utf-8")).digest()[:8], "big")
    rng = random.Random(seed)
    vec = [rng.gauss(0.0, 1.0) for _ in range(dim)]
    norm = math.sqrt(sum(v * v for v in vec)) or 1.0
    return [v / norm for v in vec]


class ScriptedOpenAIServer:
    """An OpenAI-compatible HTTP server answering from a script; see the module docstring.

    Args:
        models: model names the server accepts; a request for another model gets 404 ``model_not_found``.
            Empty accepts any model.
        host: the interface to bind (loopback only).
    """

    def __init__(self, models: Iterable[str] = ("test-model",), host: str = "127.0.0.1") -> None:
        self.models = tuple(models)
        self.host = host
        self.requests: list[dict[str, Any]] = []
        self.handling_s = 0.0
        self._script: deque[ScriptItem] = deque()
        self._default: ScriptItem | None = None
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------
    def start(self) -> ScriptedOpenAIServer:
        """Bind a free port and serve in a daemon thread."""
        server = self

        class Handler(_Handler):
            owner = server

        self._httpd = _QuietServer((self.host, 0), Handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="scripted-openai", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving (sleeping handlers wake up and return)."""
        self._stop.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> ScriptedOpenAIServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port."""
        assert self._httpd is not None, "start() the server first"
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT/v1``: what ``OPENAI_BASE_URL`` should be."""
        return f"http://{self.host}:{self.port}/v1"

    # -- script ------------------------------------------------------------------------------------------
    def push(self, *steps: ScriptItem) -> ScriptedOpenAIServer:
        """Append steps; each chat-completions request consumes one, in order."""
        with self._lock:
            self._script.extend(steps)
        return self

    def set_default(self, step: ScriptItem | None) -> None:
        """What to answer once the script is used up (None: a 500 saying the script is exhausted)."""
        self._default = step

    def reset(self) -> None:
        """Forget the script, the default and the recorded requests."""
        with self._lock:
            self._script.clear()
            self.requests.clear()
            self.handling_s = 0.0
        self._default = None

    @property
    def remaining(self) -> int:
        """Steps not consumed yet."""
        return len(self._script)

    @property
    def chat_requests(self) -> list[dict[str, Any]]:
        """Bodies of the chat-completions requests received so far."""
        return [r for r in self.requests if "messages" in r]

    def _next_step(self, body: dict[str, Any]) -> Step:
        with self._lock:
            item = self._script.popleft() if self._script else self._default
        if item is None:
            return Step(
                status=500, message="scripted server: the script is exhausted", headers={"x-should-retry": "false"}
            )
        return item(body) if callable(item) else item

    def _sleep(self, seconds: float) -> None:
        self._stop.wait(seconds)


class _QuietServer(ThreadingHTTPServer):
    """Clients that time out close their connection mid-answer: that is expected here, not an error."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    owner: ScriptedOpenAIServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence the default stderr log
        return

    # -- helpers -----------------------------------------------------------------------------------------
    def _send_json(self, status: int, payload: Mapping[str, Any], headers: Mapping[str, str] | None = None) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _send_error(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        kind, code = _error_type(status)
        self._send_json(status, {"error": {"message": message, "type": kind, "param": None, "code": code}}, headers)

    def _read_body(self) -> dict[str, Any]:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b"{}"
        body = json.loads(raw or b"{}")
        return body if isinstance(body, dict) else {"input": body}

    # -- routes ------------------------------------------------------------------------------------------
    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        if self.path.rstrip("/").endswith("/models"):
            data = [{"id": m, "object": "model", "created": 0, "owned_by": "scripted"} for m in self.owner.models]
            self._send_json(200, {"object": "list", "data": data})
        else:
            self._send_error(404, f"no route GET {self.path}")

    def do_POST(self) -> None:  # noqa: N802 - http.server naming
        started = time.perf_counter()
        try:
            body = self._read_body()
            with self.owner._lock:
                self.owner.requests.append(body)
            if self.path.rstrip("/").endswith("/chat/completions"):
                self._chat(body)
            elif self.path.rstrip("/").endswith("/embeddings"):
                self._embeddings(body)
            else:
                self._send_error(404, f"no route POST {self.path}")
        finally:
            with self.owner._lock:
                self.owner.handling_s += time.perf_counter() - started

    def _model_ok(self, body: Mapping[str, Any]) -> bool:
        model = body.get("model")
        if self.owner.models and model not in self.owner.models:
            self._send_error(404, f"The model `{model}` does not exist or you do not have access to it.")
            return False
        return True

    def _embeddings(self, body: dict[str, Any]) -> None:
        if not self._model_ok(body):
            return
        inputs = body.get("input", [])
        texts = [inputs] if isinstance(inputs, str) else [str(x) for x in inputs]
        dim = int(body.get("dimensions") or 384)
        data = [{"object": "embedding", "index": i, "embedding": embedding_for(t, dim)} for i, t in enumerate(texts)]
        tokens = sum(len(t.split()) for t in texts)
        self._send_json(
            200,
            {
                "object": "list",
                "data": data,
                "model": body.get("model"),
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            },
        )

    def _chat(self, body: dict[str, Any]) -> None:
        if not self._model_ok(body):
            return
        step = self.owner._next_step(body)
        if step.delay_s:
            self.owner._sleep(step.delay_s)
        if step.status != 200:
            self._send_error(step.status, step.message, step.headers)
            return
        calls = [
            {
                "id": f"call_{n}_{abs(hash((name, str(args)))) % 10**8}",
                "type": "function",
                "function": {"name": name, "arguments": args if isinstance(args, str) else json.dumps(args)},
            }
            for n, (name, args) in enumerate(step.calls)
        ]
        prompt_tokens = estimate_tokens(body)
        completion_tokens = (
            len(step.content) + len(step.reasoning) + sum(len(c["function"]["arguments"]) for c in calls)
        )
        completion_tokens = max(1, completion_tokens // 4)
        usage = {
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "total_tokens": prompt_tokens + completion_tokens,
        }
        finish = "tool_calls" if calls else "stop"
        created = int(time.time())
        if body.get("stream"):
            self._stream(body, step, calls, finish, usage, created)
            return
        message: dict[str, Any] = {"role": "assistant", "content": step.content or None}
        if step.reasoning:
            message["reasoning_content"] = step.reasoning
        if calls:
            message["tool_calls"] = calls
        payload = {
            "id": f"chatcmpl-{len(self.owner.requests)}",
            "object": "chat.completion",
            "created": created,
            "model": body.get("model"),
            "choices": [{"index": 0, "message": message, "finish_reason": finish, "logprobs": None}],
            "usage": usage,
        }
        self._send_json(200, payload, step.headers)

    def _stream(
        self,
        body: Mapping[str, Any],
        step: Step,
        calls: list[dict[str, Any]],
        finish: str,
        usage: Mapping[str, int],
        created: int,
    ) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        base = {"id": f"chatcmpl-{len(self.owner.requests)}", "object": "chat.completion.chunk", "created": created}
        base["model"] = body.get("model")

        def send(delta: Mapping[str, Any], finish_reason: str | None = None) -> None:
            chunk = dict(base, choices=[{"index": 0, "delta": dict(delta), "finish_reason": finish_reason}])
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
            self.wfile.flush()

        send({"role": "assistant", "content": ""})
        if step.reasoning:
            for start in range(0, len(step.reasoning), 8):
                send({"reasoning_content": step.reasoning[start : start + 8], "content": None})
        if step.piece_chars:
            pieces = [step.content[i : i + step.piece_chars] for i in range(0, len(step.content), step.piece_chars)]
        else:
            words = step.content.split(" ") if step.content else []
            pieces = [word if n == 0 else " " + word for n, word in enumerate(words)]
        for piece in pieces:
            send({"content": piece})
        for index, call in enumerate(calls):
            args = call["function"]["arguments"]
            head = {"index": index, "id": call["id"], "type": "function"}
            send({"tool_calls": [dict(head, function={"name": call["function"]["name"], "arguments": ""})]})
            for start in range(0, len(args), 16):  # arguments arrive in pieces, as real servers send them
                send({"tool_calls": [{"index": index, "function": {"arguments": args[start : start + 16]}}]})
        send({}, finish)
        if (body.get("stream_options") or {}).get("include_usage"):
            chunk = dict(base, choices=[], usage=dict(usage))
            self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
