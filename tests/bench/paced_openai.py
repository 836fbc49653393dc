"""A benchmark OpenAI-compatible chat backend in its own process: the chat view's mixed-markdown tokens, paced.

``python3 -m tests.bench.paced_openai --rate 1000 --tokens 8000`` prints ``{"url": ..., "port": ...}`` and serves
until stdin closes; with ``--port N`` it serves there until terminated (how :class:`PacedModelServer` runs it in
place of the demo marketplace's local model). Every answer is ``--tokens`` tokens (or the request's
``max_tokens``, when smaller: the demo seeding asks for short answers) of ``bench_chat_view.token(i)`` text, the
same text the in-process ``PacedBackend`` yields, so the "view only" and "through the consumer router" rows render
identical answers; one SSE event per token, as llama.cpp sends them. Tokens are due on absolute times, so the rate
does not drift.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path
from typing import Any

from aiohttp import web

from app.devnet.local_model import LocalModelServer
from tests.bench.bench_env import ROOT, announce, wait_for_stdin_eof

MODEL = "bench-paced"
TICK_S = 0.002


def token(i: int) -> str:
    """The i-th answer token (imported lazily: bench_chat_view pulls in Qt, which this process needs only for it)."""
    from tests.bench.bench_chat_view import token as view_token

    return view_token(i)


def answer_text(tokens: int) -> str:
    """The whole answer an uncut stream of ``tokens`` tokens delivers (what the reader checks it got)."""
    return "".join(token(i) for i in range(tokens))


class PacedOpenAI:
    """The aiohttp app: ``POST /v1/chat/completions`` (streamed or not) and ``GET /v1/models``."""

    def __init__(self, rate: float, tokens: int) -> None:
        self.rate, self.tokens = rate, tokens
        self.texts = [token(i) for i in range(tokens)]
        self.served = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_get("/v1/models", self.models)
        return app

    async def models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": MODEL, "object": "model"}]})

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        limit = body.get("max_tokens")
        count = min(self.tokens, int(limit)) if isinstance(limit, int) and limit > 0 else self.tokens
        self.served += 1
        created = int(time.time())
        usage = {"prompt_tokens": 10, "completion_tokens": count, "total_tokens": 10 + count}
        if not body.get("stream"):
            message = {"role": "assistant", "content": "".join(self.texts[:count])}
            return web.json_response({"id": "chatcmpl-paced", "object": "chat.completion", "created": created,
                                      "model": MODEL, "usage": usage,
                                      "choices": [{"index": 0, "message": message, "finish_reason": "stop"}]})
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)

        def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
            chunk = {"id": "chatcmpl-paced", "object": "chat.completion.chunk", "created": created, "model": MODEL,
                     "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
            return b"data: " + json.dumps(chunk).encode() + b"\n\n"

        await response.write(event({"role": "assistant"}))
        start, sent = time.monotonic(), 0
        while sent < count:
            due = min(count, int((time.monotonic() - start) * self.rate) + 1)
            while sent < due:
                await response.write(event({"content": self.texts[sent]}))
                sent += 1
            if sent < count:
                await asyncio.sleep(max(0.0, start + sent / self.rate - time.monotonic(), TICK_S / 2))
        await response.write(event({}, "stop", usage=usage))
        await response.write(b"data: [DONE]\n\n")
        return response


class PacedModelServer(LocalModelServer):
    """The demo marketplace's "local model", replaced by this paced backend (spawned, watched and stopped by the
    LocalModelServer machinery: a free port, ready once ``GET /v1/models`` answers, SIGTERM on stop)."""

    def __init__(self, rate: float, tokens: int, log_path: Path) -> None:
        super().__init__(model_name=MODEL, log_path=log_path, startup_timeout=60.0)
        self.rate, self.tokens = rate, tokens

    def unavailable_reason(self) -> str | None:
        return None

    def _command(self) -> list[str]:
        assert self.port is not None
        # -c, not -m: the child must find the ``tests`` package whatever directory the benchmark runs from.
        run = (f"import runpy, sys; sys.path.insert(0, {str(ROOT)!r}); "
               "runpy.run_module('tests.bench.paced_openai', run_name='__main__')")
        return [sys.executable, "-c", run, "--rate", str(self.rate), "--tokens", str(self.tokens),
                "--port", str(self.port)]


async def main(rate: float, tokens: int, port: int | None) -> None:
    backend = PacedOpenAI(rate, tokens)
    runner = web.AppRunner(backend.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port or 0)
    await site.start()
    bound = runner.addresses[0][1]
    announce({"url": f"http://127.0.0.1:{bound}/v1", "port": bound})
    try:
        if port is None:
            await wait_for_stdin_eof()
        else:
            await asyncio.Event().wait()  # until SIGTERM
    finally:
        await runner.cleanup()
    announce({"served": backend.served})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=1000.0, help="tokens per second")
    parser.add_argument("--tokens", type=int, default=8000, help="tokens per answer (unless max_tokens is smaller)")
    parser.add_argument("--port", type=int, help="serve on this port until terminated (default: a free port until "
                        "stdin closes)")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.rate, arguments.tokens, arguments.port))
