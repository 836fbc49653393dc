"""Benchmark: tokens/s of OpenAIBackend vs a raw aiohttp read of the same llama.cpp-shaped stream.

Run from the repo root: python3 -m tests.bench.bench_backend  (writes tests/bench/results/bench_backend.json)

"raw" reads the body with aiohttp and only counts ``data:`` events (no SSE rules, no JSON); "parse" adds
``json.loads`` per event (the least any real client must do); "OpenAIBackend" is the full client (SSE
decoder, JSON, error checks, stats). The ratio is each one's tokens/s over raw's. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from functools import partial
from typing import Any

import aiohttp

from app.router.provider.backends import OpenAIBackend
from tests.bench.bench_env import write_result
from tests.support.openai_backend import Behaviour, OpenAIBackendServer

REQUEST: dict[str, Any] = {"messages": [{"role": "user", "content": "bench"}], "stream": True}


async def raw_read(session: aiohttp.ClientSession, url: str) -> int:
    events = 0
    async with session.post(url, json={**REQUEST, "model": "m"}) as response:
        async for line in response.content:
            if line.startswith(b"data: "):
                events += 1
    return events


async def parsed_read(session: aiohttp.ClientSession, url: str) -> int:
    events = 0
    async with session.post(url, json={**REQUEST, "model": "m"}) as response:
        async for line in response.content:
            if line.startswith(b"data: ") and line[6:].strip() != b"[DONE]":
                json.loads(line[6:])
                events += 1
    return events


async def backend_read(backend: OpenAIBackend) -> int:
    async with aclosing(backend.stream_chat(REQUEST)) as items:
        return sum([1 async for _ in items])


async def timed(run: Callable[[], Awaitable[int]], tokens: int, repeats: int) -> float:
    """Median tokens/s over ``repeats`` runs."""
    rates = []
    for _ in range(repeats):
        start = time.perf_counter()
        await run()
        rates.append(tokens / (time.perf_counter() - start))
    return statistics.median(rates)


async def main(tokens: int = 20_000, repeats: int = 5) -> None:
    rows: list[dict[str, Any]] = []
    for framing, behaviour in [
        ("lf", Behaviour(tokens=["tok"] * tokens)),
        ("crlf+keepalive", Behaviour(tokens=["tok"] * tokens, line_end="\r\n", keepalive=True)),
    ]:
        async with (
            OpenAIBackendServer(behaviour) as server,
            aiohttp.ClientSession() as session,
            OpenAIBackend("m", server.chat_url, request_usage=False) as backend,
        ):
            raw = await timed(partial(raw_read, session, server.chat_url), tokens, repeats)
            parsed = await timed(partial(parsed_read, session, server.chat_url), tokens, repeats)
            full = await timed(partial(backend_read, backend), tokens, repeats)
        for reader, rate in [("raw aiohttp", raw), ("aiohttp + json", parsed), ("OpenAIBackend", full)]:
            rows.append({"framing": framing, "reader": reader, "tokens_per_s": rate, "ratio": rate / raw})

    print(f"{'framing':<16} {'reader':<16} {'tokens/s':>10} {'vs raw':>7}")
    for row in rows:
        print(f"{row['framing']:<16} {row['reader']:<16} {row['tokens_per_s']:>10,.0f} {row['ratio']:>7.2f}")
    write_result("bench_backend", {"tokens": tokens, "rows": rows})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=20_000, help="tokens per stream (default 20,000)")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs per reader, median kept (default 5)")
    args = parser.parse_args()
    asyncio.run(main(args.tokens, args.repeats))
