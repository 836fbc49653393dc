"""A benchmark LLM backend in its own process: llama.cpp-shaped SSE whose every token carries its send time.

Run by the benchmarks (``python3 -m tests.bench.stamped_backend``); prints ``{"url": ...}`` and serves until stdin
closes. Each content token is ``"<seq>@<CLOCK_MONOTONIC ns>"``: monotonic time is one clock for every process on
the machine, so a reader anywhere subtracts it from its own ``time.monotonic_ns()`` to get the chunk's latency.
``POST /control {"tokens": n, "rate": tok/s (0 = as fast as possible), "stall_ms": prompt time}`` sets the
behaviour of the next requests. Paced tokens are scheduled on absolute times, so the rate does not drift.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from aiohttp import web

from tests.bench.bench_env import announce, wait_for_stdin_eof

MODEL = "bench-model"


def parse_stamp(content: str) -> int | None:
    """The send time (monotonic ns) inside a token, or None for text that is not a stamp."""
    _, at, stamp = content.strip().partition("@")
    return int(stamp) if at and stamp.isdigit() else None


class StampedBackend:
    """The aiohttp app and its live behaviour."""

    def __init__(self) -> None:
        self.tokens = 100
        self.rate = 0.0
        self.stall_ms = 0.0
        self.served = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.chat)
        app.router.add_post("/control", self.control)
        app.router.add_get("/v1/models", self.models)
        return app

    async def control(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.tokens = int(body.get("tokens", self.tokens))
        self.rate = float(body.get("rate", self.rate))
        self.stall_ms = float(body.get("stall_ms", self.stall_ms))
        return web.json_response({"tokens": self.tokens, "rate": self.rate, "stall_ms": self.stall_ms})

    async def models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": MODEL, "object": "model"}]})

    async def chat(self, request: web.Request) -> web.StreamResponse:
        await request.read()
        tokens, rate, stall = self.tokens, self.rate, self.stall_ms
        self.served += 1
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await response.prepare(request)
        created = int(time.time())

        def event(delta: dict[str, Any], finish: str | None = None) -> bytes:
            chunk = {"id": "chatcmpl-bench", "object": "chat.completion.chunk", "created": created, "model": MODEL,
                     "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}
            return b"data: " + json.dumps(chunk).encode() + b"\n\n"

        if stall:
            await asyncio.sleep(stall / 1000)
        await response.write(event({"role": "assistant"}))
        start = time.monotonic()
        for seq in range(tokens):
            if rate > 0:
                delay = start + seq / rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
            await response.write(event({"content": f"{seq}@{time.monotonic_ns()} "}))
        await response.write(event({}, "stop"))
        await response.write(b"data: [DONE]\n\n")
        return response


async def main() -> None:
    backend = StampedBackend()
    runner = web.AppRunner(backend.app(), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    announce({"url": f"http://127.0.0.1:{port}/v1", "port": port})
    try:
        await wait_for_stdin_eof()
    finally:
        await runner.cleanup()
    announce({"served": backend.served})


if __name__ == "__main__":
    asyncio.run(main())
