"""A scriptable OpenAI-compatible chat server on 127.0.0.1 that streams the way llama.cpp's servers do.

Wire format copied from llama-cpp-python 0.3.36's server (``python -m llama_cpp.server``), captured live:
``data: {json}\\n\\n`` events (keys id, model, created, object, choices[index, delta, logprobs,
finish_reason]), a first chunk with ``delta: {"role": "assistant"}``, one chunk per token, a final chunk
with an empty delta and the ``finish_reason``, then ``data: [DONE]``. Errors are
``{"error": {"message", "type", "param", "code"}}``. That server ignores ``stream_options``; the C++
``llama-server`` (and OpenAI, vLLM) answer ``include_usage`` with a chunk whose ``choices`` is empty,
so this server does that when asked (``Behaviour.usage``).

Usage::

    async with OpenAIBackendServer(Behaviour(tokens=["Hi", "!"])) as server:
        ...  # POST to server.chat_url or server.base_url + "/chat/completions"
        server.requests[0].body  # everything the backend received
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

DEFAULT_TOKENS = ["Hello", ",", " world", "!"]


@dataclass
class Behaviour:
    """How the server answers the next requests; tests may replace ``server.behaviour`` at any time."""

    tokens: list[str] = field(default_factory=lambda: list(DEFAULT_TOKENS))
    token_delay: float = 0.0
    """Seconds between tokens."""
    stall: float = 0.0
    """Seconds to wait after the response headers and before the first chunk (prompt processing)."""
    fail_status: int | None = None
    """Answer every request with this HTTP status and ``fail_body``."""
    fail_body: dict[str, Any] | None = None
    drop_after: int | None = None
    """Cut the TCP connection after this many content tokens (no finish chunk, no [DONE])."""
    error_after: int | None = None
    """After this many content tokens send ``data: {"error": …}`` and end, as llama-server does on failure."""
    usage: bool | None = None
    """Send a usage chunk: None = when the request asks (``stream_options.include_usage``)."""
    line_end: str = "\n"
    """``"\\r\\n"`` reproduces sse-starlette's CRLF framing."""
    keepalive: bool = False
    """Send a ``: ping`` comment before every event."""
    split_writes: bool = False
    """Write every event in 3-byte pieces, so events straddle TCP reads."""
    finish_reason: str = "stop"
    api_key: str | None = None
    """When set, requests without ``Authorization: Bearer <api_key>`` get HTTP 401."""


@dataclass
class RecordedRequest:
    """One request as the server saw it, and how it ended."""

    body: dict[str, Any]
    headers: dict[str, str]
    tokens_sent: int = 0
    completed: bool = False
    disconnected: bool = False
    disconnected_at: float | None = None


class OpenAIBackendServer:
    """The server; an async context manager that binds 127.0.0.1:0 and exposes its URLs."""

    def __init__(self, behaviour: Behaviour | None = None, model: str = "test-model") -> None:
        self.behaviour = behaviour or Behaviour()
        self.model = model
        self.requests: list[RecordedRequest] = []
        self._disconnect = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1`` — the ``apiUrl`` form that names the API root."""
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def chat_url(self) -> str:
        """The full ``/v1/chat/completions`` endpoint."""
        return f"{self.base_url}/chat/completions"

    async def __aenter__(self) -> OpenAIBackendServer:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_get("/v1/models", self._models)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def wait_disconnect(self, within: float = 2.0) -> RecordedRequest:
        """Wait until a client hung up before its answer was complete; return that request."""
        async with asyncio.timeout(within):
            await self._disconnect.wait()
        return next(r for r in self.requests if r.disconnected)

    async def _models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": self.model, "object": "model"}]})

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        behaviour = self.behaviour
        body = await request.json()
        record = RecordedRequest(body=body, headers=dict(request.headers))
        self.requests.append(record)
        if behaviour.api_key is not None and request.headers.get("Authorization") != (f"Bearer {behaviour.api_key}"):
            return _error(401, "Invalid API key", "invalid_request_error")
        if behaviour.fail_status is not None:
            payload = behaviour.fail_body or _error_body("backend failed on purpose", "internal_server_error")
            return web.json_response(payload, status=behaviour.fail_status)
        if not body.get("stream"):
            if not await self._pause(request, record, behaviour.stall):
                return web.Response()
            record.tokens_sent = len(behaviour.tokens)
            record.completed = True
            return web.json_response(self._completion(body, behaviour))
        return await self._stream(request, record, body, behaviour)

    async def _stream(
        self, request: web.Request, record: RecordedRequest, body: dict[str, Any], behaviour: Behaviour
    ) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
        await response.prepare(request)
        chunk_id = f"chatcmpl-{uuid.uuid4()}"
        created = int(time.time())
        model = str(body.get("model", self.model))

        def chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
            return {
                "id": chunk_id,
                "model": model,
                "created": created,
                "object": "chat.completion.chunk",
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }

        if not await self._pause(request, record, behaviour.stall):
            return response
        if not await self._send(request, response, record, behaviour, chunk({"role": "assistant"})):
            return response
        for index, token in enumerate(behaviour.tokens):
            if behaviour.drop_after is not None and index >= behaviour.drop_after:
                assert request.transport is not None
                request.transport.close()
                return response
            if behaviour.error_after is not None and index >= behaviour.error_after:
                error = _error_body("context window exceeded", "server_error")
                await self._send(request, response, record, behaviour, error)
                await response.write_eof()
                return response
            if index and not await self._pause(request, record, behaviour.token_delay):
                return response
            if not await self._send(request, response, record, behaviour, chunk({"content": token})):
                return response
            record.tokens_sent += 1
        if not await self._send(request, response, record, behaviour, chunk({}, behaviour.finish_reason)):
            return response
        if self._wants_usage(body, behaviour):
            usage = {**chunk({}), "choices": [], "usage": self._usage(body, behaviour)}
            if not await self._send(request, response, record, behaviour, usage):
                return response
        if not await self._send(request, response, record, behaviour, "[DONE]"):
            return response
        record.completed = True
        await response.write_eof()
        return response

    async def _send(
        self,
        request: web.Request,
        response: web.StreamResponse,
        record: RecordedRequest,
        behaviour: Behaviour,
        item: dict[str, Any] | str,
    ) -> bool:
        """Write one SSE event; False (and the disconnect recorded) when the client has gone."""
        data = item if isinstance(item, str) else json.dumps(item)
        nl = behaviour.line_end
        event = (f": ping{nl}{nl}" if behaviour.keepalive else "") + f"data: {data}{nl}{nl}"
        raw = event.encode()
        pieces = [raw[i : i + 3] for i in range(0, len(raw), 3)] if behaviour.split_writes else [raw]
        try:
            for piece in pieces:
                if self._gone(request):
                    raise ConnectionResetError
                await response.write(piece)
        except ConnectionResetError:  # aiohttp's ClientConnectionResetError subclasses it
            self._mark_disconnected(record)
            return False
        return True

    async def _pause(self, request: web.Request, record: RecordedRequest, seconds: float) -> bool:
        """Sleep ``seconds`` but notice a hang-up within ~5 ms; False when the client has gone."""
        deadline = time.monotonic() + seconds
        while True:
            if self._gone(request):
                self._mark_disconnected(record)
                return False
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True
            await asyncio.sleep(min(0.005, remaining))

    @staticmethod
    def _gone(request: web.Request) -> bool:
        transport = request.transport
        return transport is None or transport.is_closing()

    def _mark_disconnected(self, record: RecordedRequest) -> None:
        if not record.disconnected:
            record.disconnected = True
            record.disconnected_at = time.monotonic()
            self._disconnect.set()

    def _wants_usage(self, body: dict[str, Any], behaviour: Behaviour) -> bool:
        if behaviour.usage is not None:
            return behaviour.usage
        options = body.get("stream_options")
        return isinstance(options, dict) and bool(options.get("include_usage"))

    def _usage(self, body: dict[str, Any], behaviour: Behaviour) -> dict[str, int]:
        prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
        completion = len(behaviour.tokens)
        return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}

    def _completion(self, body: dict[str, Any], behaviour: Behaviour) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-{uuid.uuid4()}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": str(body.get("model", self.model)),
            "choices": [
                {
                    "index": 0,
                    "message": {"content": "".join(behaviour.tokens), "role": "assistant"},
                    "logprobs": None,
                    "finish_reason": behaviour.finish_reason,
                }
            ],
            "usage": self._usage(body, behaviour),
        }


def _error_body(message: str, kind: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": kind, "param": None, "code": None}}


def _error(status: int, message: str, kind: str) -> web.Response:
    return web.json_response(_error_body(message, kind), status=status)
