"""Benchmark: the whole relay (client → consumer router → provider router → backend) vs client → backend, same run.

Run: ``python3 -m tests.bench.bench_relay_e2e`` (writes results/bench_relay_e2e.json).

Real parts: anvil devnet, a session opened on chain by the consumer router (ConsumerService, ranked on the bid),
its HTTP API ``/v1/chat/completions`` (SSE) read with aiohttp as an OpenAI client would; the provider router alone
in its own process (``provider_proc``) and the stamped llama.cpp-shaped backend in another, as in production. The
consumer router and the client share this process. Runs of each path are interleaved so drift hits both alike.

Cases: ``saturated`` (the backend streams as fast as it can: the relay's ceiling, bounded by per-chunk ECIES +
signature on both routers), ``paced`` (a real LLM's pace, where the target ≥ 0.9× applies) and ``ttft``
(4 tokens, many repeats: the time the two routers add before the first token).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import socket
import statistics
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from app.config.models_config import ModelsConfig
from app.config.settings import Settings
from app.router.api.auth import AuthConfig
from app.router.api.context import ApiContext
from app.router.api.server import ApiServer
from app.router.consumer.service import ConsumerService
from app.storage.store import AsyncStorage
from tests.bench.bench_concurrency import control
from tests.bench.bench_env import Child, machine, spawn, write_result
from tests.router.provider.provider_env import Devnet, running_devnet

MESSAGES = [{"role": "user", "content": "bench"}]


@dataclass
class ConsumerNode:
    """What the API reads from the node (the consumer's wallet on the devnet)."""

    devnet: Devnet
    storage: AsyncStorage

    @property
    def chain(self) -> Any:
        return self.devnet.client

    @property
    def diamond(self) -> Any:
        return self.devnet.protocol.user.diamond

    @property
    def token(self) -> Any:
        return self.devnet.protocol.user.token

    @property
    def sender(self) -> Any:
        return self.devnet.protocol.user.sender


def free_port() -> int:
    # The provider's endpoint goes on chain before the provider starts; a just-freed port is good enough here.
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def stream(http: aiohttp.ClientSession, url: str, headers: dict[str, str]) -> tuple[float, int]:
    """(seconds to the first content token, content tokens) of one streamed chat completion.

    Tokens are counted by their stamps: a provider that fell behind merges several into one chunk.
    """
    start, first, count = time.perf_counter(), 0.0, 0
    body = {"model": "bench-model", "messages": MESSAGES, "stream": True}
    async with http.post(url, json=body, headers=headers) as response:
        response.raise_for_status()
        async for line in response.content:
            if line.startswith(b"data: {") and b'"content"' in line:
                first = first or time.perf_counter() - start
                choices = json.loads(line[6:]).get("choices") or [{}]
                count += (choices[0].get("delta", {}).get("content") or "").count("@")
    return first, count


async def compare(http: aiohttp.ClientSession, paths: dict[str, tuple[str, dict[str, str]]], tokens: int,
                  repeats: int) -> dict[str, dict[str, float]]:
    """Median TTFT (ms) and tokens/s per path over interleaved runs; every run must deliver every token."""
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in paths}
    for _ in range(repeats):
        for name, (url, headers) in paths.items():
            t0 = time.perf_counter()
            first, count = await stream(http, url, headers)
            if count != tokens:
                raise RuntimeError(f"{name}: {count} of {tokens} tokens arrived")
            runs[name].append((first * 1000, count / (time.perf_counter() - t0)))
    med = statistics.median
    return {name: {"ttft_ms": med(r[0] for r in v), "tokens_per_s": med(r[1] for r in v)} for name, v in runs.items()}


async def measure(cases: list[tuple[str, int, float, int]]) -> list[dict[str, Any]]:
    port = free_port()
    rows: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        async with running_devnet(f"127.0.0.1:{port}") as devnet:
            backend = await spawn("tests.bench.stamped_backend")
            provider: Child | None = None
            storage = await AsyncStorage.open(folder / "consumer.sqlite3")
            user = devnet.protocol.user
            consumer = ConsumerService(user.signer, user.diamond, user.token, devnet.client, storage)
            auth = AuthConfig.load(folder / ".cookie", folder / "proxy.conf")
            ctx = ApiContext(node=ConsumerNode(devnet, storage), settings=Settings(base_dir=folder),
                             models=ModelsConfig(), auth=auth, consumer=lambda: consumer)
            api = ApiServer(ctx, "127.0.0.1:0")
            try:
                provider = await spawn("tests.bench.provider_proc", "--rpc-url", devnet.node.rpc_url, "--diamond",
                                       devnet.protocol.addresses.diamond, "--model-id", "0x" + devnet.model_id.hex(),
                                       "--backend-url", backend.info["url"], "--port", str(port))
                session = await consumer.open_session(bid_id="0x" + devnet.bid_id.hex(), duration_s=3600)
                await api.start()
                login = base64.b64encode(f"admin:{auth.admin_password}".encode()).decode()
                paths = {
                    "direct": (backend.info["url"] + "/chat/completions", {}),
                    "relayed": (api.url + "/v1/chat/completions",
                                {"Authorization": f"Basic {login}", "session_id": session.id}),
                }
                async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=300)) as http:
                    for case, tokens, rate, repeats in cases:
                        await control(backend.info["url"], tokens=tokens, rate=rate)
                        await compare(http, paths, tokens, 1)  # warm-up: connections, first-use imports
                        r = await compare(http, paths, tokens, repeats)
                        d, x = r["direct"], r["relayed"]
                        rows.append({"case": case, "tokens": tokens, "rate": rate, "repeats": repeats,
                                     "direct_tps": d["tokens_per_s"], "relay_tps": x["tokens_per_s"],
                                     "ratio": x["tokens_per_s"] / d["tokens_per_s"],
                                     "direct_ttft_ms": d["ttft_ms"], "relay_ttft_ms": x["ttft_ms"],
                                     "added_ttft_ms": x["ttft_ms"] - d["ttft_ms"]})
            finally:
                await api.stop()
                await consumer.stop()
                await storage.close()
                if provider is not None:
                    await provider.stop()
                await backend.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--scale", type=float, default=1.0,
                        help="multiply the streams' token counts (default 1; the smoke test runs 0.05)")
    args = parser.parse_args()
    n = args.repeats

    def tokens(count: int) -> int:
        return max(4, round(count * args.scale))

    cases = [  # (case, tokens, backend tokens/s (0 = unpaced), repeats)
        ("saturated", tokens(2_000), 0.0, n),
        ("paced 50 tok/s", tokens(100), 50.0, max(2, n // 2)),
        ("paced 500 tok/s", tokens(1_000), 500.0, max(2, n // 2)),
        ("ttft (4 tokens)", 4, 0.0, n * 6),
    ]
    rows = asyncio.run(measure(cases))
    print(f"{'case':<16} {'backend tok/s':>13} {'relay tok/s':>11} {'ratio':>6} {'backend TTFT':>12} "
          f"{'relay TTFT':>10} {'added':>8}")
    for r in rows:
        print(f"{r['case']:<16} {r['direct_tps']:>13,.0f} {r['relay_tps']:>11,.0f} {r['ratio']:>6.2f} "
              f"{r['direct_ttft_ms']:>10.2f}ms {r['relay_ttft_ms']:>8.2f}ms {r['added_ttft_ms']:>6.2f}ms")
    print(f"written: {write_result('bench_relay_e2e', {'rows': rows, 'machine': machine()})}")


if __name__ == "__main__":
    main()
