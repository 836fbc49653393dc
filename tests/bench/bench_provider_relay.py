"""Benchmark: tokens/s and time to first token through the provider vs the backend alone, in the same run.

Run from the repo root: python3 -m tests.bench.bench_provider_relay
(writes tests/bench/results/bench_provider_relay.json)

"backend alone" is OpenAIBackend reading the llama.cpp-shaped test server directly. "provider" sends a signed
``session.prompt`` to our provider (anvil devnet, real Diamond, session opened on chain) and counts the streamed
response objects: the provider's per-item work (JSON, ECIES encryption, signature) is in it. "provider+consumer"
also verifies and decrypts every response, as a consumer must (both sides' crypto on one core, so it is the
floor, not the relay's speed). Rates are backend items per second (one item per token here); TTFT is the time to
the first item. Everything runs on one event loop in one process.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from contextlib import aclosing
from typing import Any

from app.router.morrpc.envelope import parse_response
from app.router.morrpc.framing import read_messages
from app.router.morrpc.messages import SessionPromptRes
from app.router.morrpc.prompt import open_prompt_response
from app.router.provider.backends import OpenAIBackend
from tests.bench.bench_env import write_result
from tests.router.provider import morrpc_consumer as c
from tests.router.provider.provider_env import STAKE, Devnet, models_config, running_devnet, running_provider
from tests.support.openai_backend import Behaviour, OpenAIBackendServer

REQUEST: dict[str, Any] = {"messages": [{"role": "user", "content": "bench"}], "stream": True}


async def direct(backend: OpenAIBackend) -> tuple[float, int]:
    """(seconds to the first item, items) reading the backend directly."""
    start, first, count = time.perf_counter(), 0.0, 0
    async with aclosing(backend.stream_chat(REQUEST)) as items:
        async for _ in items:
            count += 1
            first = first or time.perf_counter() - start
    return first, count


async def relayed(port: int, devnet: Devnet, session: tuple[bytes, bytes], *, open_items: bool) -> tuple[float, int]:
    """The same through the provider; with ``open_items`` each response is verified and decrypted."""
    user = devnet.protocol.user.signer
    raw = c.prompt(user, session[0], REQUEST)
    start, first, count = time.perf_counter(), 0.0, 0
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(raw)
        async for obj in read_messages(reader):
            if open_items:
                res = SessionPromptRes.from_obj(parse_response(obj).result, "result")
                json.loads(open_prompt_response(res, user, session[1]))
            count += 1
            first = first or time.perf_counter() - start
    finally:
        writer.close()
    return first, count


async def measure(
    port: int, devnet: Devnet, session: tuple[bytes, bytes], backend: OpenAIBackend, n: int
) -> dict[str, float]:
    """Median TTFT (ms) and items/s of each path, interleaving runs so drift hits all alike."""
    runs: dict[str, list[tuple[float, float]]] = {"direct": [], "provider": [], "provider+consumer": []}
    for _ in range(n):
        for name, run in (
            ("direct", lambda: direct(backend)),
            ("provider", lambda: relayed(port, devnet, session, open_items=False)),
            ("provider+consumer", lambda: relayed(port, devnet, session, open_items=True)),
        ):
            t0 = time.perf_counter()
            first, count = await run()
            runs[name].append((first * 1000, count / (time.perf_counter() - t0)))
    med = statistics.median
    return {f"{k}_{m}": med(r[i] for r in v) for k, v in runs.items() for i, m in enumerate(("ttft_ms", "ips"))}


async def main(long_tokens: int = 2_000, repeats: int = 7) -> None:
    rows: list[dict[str, Any]] = []
    async with running_devnet() as devnet:
        for label, behaviour, n in [
            ("throughput", Behaviour(tokens=["tok"] * long_tokens), repeats),
            ("ttft (4 tokens)", Behaviour(tokens=["a", "b", "c", "d"]), repeats * 4),
        ]:
            async with (
                OpenAIBackendServer(behaviour) as server,
                running_provider(devnet, models_config(devnet.model_id, server)) as (mor, _),
                OpenAIBackend("served-model", server.chat_url, request_usage=False) as backend,
            ):
                port, user = mor.address[1], devnet.protocol.user
                res = c.approval(await c.exchange(port, c.session_request(user.signer, devnet.bid_id, STAKE)))
                session_id = await devnet.open_session(user, res.approval, res.approval_sig)
                row = await measure(port, devnet, (session_id, res.pub_key), backend, n)
            for path in ("provider", "provider+consumer"):
                rows.append({
                    "case": label, "path": path,
                    "direct_ips": row["direct_ips"], "relay_ips": row[f"{path}_ips"],
                    "ratio": row[f"{path}_ips"] / row["direct_ips"],
                    "direct_ttft_ms": row["direct_ttft_ms"], "relay_ttft_ms": row[f"{path}_ttft_ms"],
                    "added_ttft_ms": row[f"{path}_ttft_ms"] - row["direct_ttft_ms"],
                })  # fmt: skip

    head = ("case", "path", "backend it/s", "relay it/s", "ratio", "backend TTFT", "relay TTFT", "added")
    print("{:<16} {:<18} {:>12} {:>11} {:>6} {:>12} {:>11} {:>9}".format(*head))
    for r in rows:
        print(
            f"{r['case']:<16} {r['path']:<18} {r['direct_ips']:>12,.0f} {r['relay_ips']:>11,.0f} {r['ratio']:>6.2f} "
            f"{r['direct_ttft_ms']:>10.2f}ms {r['relay_ttft_ms']:>9.2f}ms {r['added_ttft_ms']:>7.2f}ms"
        )
    write_result("bench_provider_relay", {"long_tokens": long_tokens, "rows": rows})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=2_000, help="tokens in the throughput stream (default 2,000)")
    parser.add_argument("--repeats", type=int, default=7,
                        help="runs per path for throughput, 4x that for TTFT, medians kept (default 7)")
    args = parser.parse_args()
    asyncio.run(main(args.tokens, args.repeats))
