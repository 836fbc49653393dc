"""Benchmark: N concurrent streaming sessions through one provider router process (default 100 for 60 s).

Run: ``python3 -m tests.bench.bench_concurrency`` (soak: ``--minutes 10``); writes results/bench_concurrency.json.

Real parts: anvil devnet with the protocol deployed; N sessions opened on chain (session.request over MOR-RPC,
then openSession); our provider router alone in its own process (``provider_proc``); the stamped backend in its own
process, streaming ``--rate`` tokens/s per session (a real LLM's pace). This process plays the N consumers: each
sends a signed ``session.prompt`` and verifies + decrypts every streamed response, as a consumer router must.

Measured: errors (any error response, exception, missing or out-of-order chunk), chunk latency (backend send → the
consumer has decrypted it, one monotonic clock across processes), the same latency reading the backend directly
with N streams just before (so "added" = relayed − direct), the provider's event-loop lag, its CPU use and its RSS
sampled over the run (flat = no leak).

``--pauses 100/2000`` stops the provider process (SIGSTOP) for 100 ms of every 2,000 ms, as a hypervisor taking the
CPU back (steal) or a burst of higher-priority work would: meanwhile every session's next chunk arrives, so on
waking the provider has a chunk to seal for each of them. With ``--no-relay-turns`` (every ready chunk sealed in the
iteration it is ready, as before the relay budget) that catch-up is one long loop iteration; with the budget it is
several short ones. Both runs side by side show what the budget does.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import signal
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from app.router.morrpc.envelope import parse_response
from app.router.morrpc.framing import read_messages
from app.router.morrpc.messages import SessionPromptRes
from app.router.morrpc.prompt import open_prompt_response
from tests.bench.bench_env import Child, cpu_seconds, machine, percentile, rss_mb, spawn, write_result
from tests.bench.stamped_backend import parse_stamp
from tests.router.provider import morrpc_consumer as c
from tests.router.provider.provider_env import STAKE, Devnet, running_devnet

REQUEST: dict[str, Any] = {"messages": [{"role": "user", "content": "bench"}], "stream": True}


@dataclass
class Tally:
    """What the N consumers saw."""

    latencies_ms: list[float] = field(default_factory=list)
    ttft_ms: list[float] = field(default_factory=list)
    prompts: int = 0
    chunks: int = 0  # messages carrying text; fewer than tokens when the provider merged a backlog
    tokens: int = 0
    errors: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        lat, ttft = self.latencies_ms, self.ttft_ms
        return {"prompts": self.prompts, "chunks": self.chunks, "tokens": self.tokens, "errors": len(self.errors),
                "error_samples": sorted(set(self.errors))[:5],
                "chunk_latency_p50_ms": percentile(lat, 50), "chunk_latency_p99_ms": percentile(lat, 99),
                "chunk_latency_max_ms": max(lat, default=0.0), "ttft_p50_ms": percentile(ttft, 50),
                "ttft_p99_ms": percentile(ttft, 99)}


def _content(item: Any) -> str | None:
    choices = item.get("choices") if isinstance(item, dict) else None
    if not choices:
        return None
    content = choices[0].get("delta", {}).get("content")
    return content if isinstance(content, str) else None


class Checker:
    """Per prompt: every chunk's latency, and that the stamped sequence arrives complete and in order."""

    def __init__(self, tally: Tally, tokens: int) -> None:
        self.tally, self.tokens, self.expected = tally, tokens, 0
        self.started = time.monotonic_ns()

    def chunk(self, content: str | None) -> None:
        """One received chunk: several stamped tokens when the provider merged a backlog (adaptive batching)."""
        now = time.monotonic_ns()
        tokens = [(t, parse_stamp(t)) for t in content.split()] if content else []
        for token, stamp in tokens:
            if stamp is None:
                continue
            if self.expected == 0:
                self.tally.ttft_ms.append((now - self.started) / 1e6)
            seq = int(token.split("@", 1)[0])
            if seq != self.expected:
                raise RuntimeError(f"token {seq} arrived where {self.expected} was expected")
            self.expected += 1
            self.tally.latencies_ms.append((now - stamp) / 1e6)
            self.tally.tokens += 1
        if any(stamp is not None for _, stamp in tokens):
            self.tally.chunks += 1

    def done(self) -> None:
        self.tally.prompts += 1
        if self.expected != self.tokens:
            raise RuntimeError(f"the stream ended after {self.expected} of {self.tokens} tokens")


async def relayed_prompt(port: int, devnet: Devnet, session: tuple[bytes, bytes], check: Checker) -> None:
    user = devnet.protocol.user.signer
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(c.prompt(user, session[0], REQUEST))
        async for obj in read_messages(reader):
            response = parse_response(obj)
            if response.error is not None:
                raise RuntimeError(f"provider error: {response.error.message[:80]}")
            res = SessionPromptRes.from_obj(response.result, "result")
            check.chunk(_content(json.loads(open_prompt_response(res, user, session[1]))))
        check.done()
    finally:
        writer.close()


async def direct_prompt(http: aiohttp.ClientSession, url: str, check: Checker) -> None:
    async with http.post(url + "/chat/completions", json={**REQUEST, "model": "bench-model"}) as response:
        async for line in response.content:
            if line.startswith(b"data: {"):
                check.chunk(_content(json.loads(line[6:])))
    check.done()


async def run_clients(n: int, seconds: float, tally: Tally, prompt: Any, tokens: int) -> None:
    """N clients, starts spread over 2 s, each prompting in a loop until ``seconds`` have passed."""
    deadline = time.monotonic() + seconds

    async def client(i: int) -> None:
        await asyncio.sleep(random.Random(i).uniform(0, 2))
        while time.monotonic() < deadline:
            check = Checker(tally, tokens)
            try:
                await prompt(i, check)
            except Exception as e:  # every failure is counted and shown, never hidden
                tally.errors.append(f"{type(e).__name__}: {e}"[:120])

    await asyncio.gather(*(client(i) for i in range(n)))


async def open_sessions(devnet: Devnet, port: int, n: int, seconds: float) -> list[tuple[bytes, bytes]]:
    """N sessions on chain lasting past ``seconds`` of load, each approved by the provider over MOR-RPC:
    (session id, provider public key)."""
    user = devnet.protocol.user
    stake = STAKE * math.ceil((seconds + 120) / 600)  # STAKE buys a session of a little over 11 minutes
    await devnet.protocol.funding.token.transfer(user.address, n * stake)
    sessions = []
    for _ in range(n):
        res = c.approval(await c.exchange(port, c.session_request(user.signer, devnet.bid_id, stake)))
        sessions.append((await devnet.open_session(user, res.approval, res.approval_sig, stake), res.pub_key))
    return sessions


async def sample_rss(pid: int, every: float, samples: list[tuple[float, float]], stop: asyncio.Event) -> None:
    start = time.monotonic()
    while not stop.is_set():
        samples.append((round(time.monotonic() - start, 1), round(rss_mb(pid), 1)))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
    samples.append((round(time.monotonic() - start, 1), round(rss_mb(pid), 1)))


async def control(url: str, **behaviour: float) -> None:
    async with aiohttp.ClientSession() as http, http.post(url.removesuffix("/v1") + "/control", json=behaviour) as r:
        r.raise_for_status()


def split_cores() -> tuple[int, set[int]]:
    """The provider's own core and the harness's others (``--own-core``); needs at least two usable CPUs."""
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) < 2:
        raise SystemExit("--own-core needs at least two CPUs")
    return cpus[0], set(cpus[1:])


@contextlib.asynccontextmanager
async def pausing(pid: int, pause_s: float, period_s: float) -> AsyncIterator[None]:
    """Stop process ``pid`` for ``pause_s`` of every ``period_s`` while the block runs."""

    async def pause_now_and_then() -> None:
        while True:
            await asyncio.sleep(period_s - pause_s)
            os.kill(pid, signal.SIGSTOP)
            try:
                await asyncio.sleep(pause_s)
            finally:
                os.kill(pid, signal.SIGCONT)

    task = asyncio.create_task(pause_now_and_then())
    try:
        yield
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def measure(n: int, seconds: float, rate: float, tokens: int, direct_seconds: float,
                  own_core: bool = False, pauses: tuple[float, float] | None = None,
                  relay_turns: bool = True) -> dict[str, Any]:
    provider_cpu: list[str] = []
    if not relay_turns:
        os.environ["BENCH_NO_RELAY_TURNS"] = "1"  # read by the provider process started below
    if own_core:
        # The consumers stand in for other machines and the backend for an LLM server (usually on a GPU): give the
        # provider a core of its own so its loop lag measures the router, not the harness competing for 2 cores.
        # Set before anvil and the backend start, so they inherit the harness's cores.
        core, others = split_cores()
        os.sched_setaffinity(0, others)
        provider_cpu = ["--cpu", str(core)]
    async with running_devnet() as devnet:
        backend = await spawn("tests.bench.stamped_backend")
        provider: Child | None = None
        try:
            url = backend.info["url"]
            provider = await spawn("tests.bench.provider_proc", "--rpc-url", devnet.node.rpc_url, "--diamond",
                                   devnet.protocol.addresses.diamond, "--model-id", "0x" + devnet.model_id.hex(),
                                   "--backend-url", url, *provider_cpu)
            port = provider.info["port"]
            sessions = await open_sessions(devnet, port, n, seconds)
            ends = min([(await devnet.protocol.user.diamond.get_session(s)).ends_at for s, _ in sessions])
            if ends - await devnet.protocol.now() < seconds + 60:
                raise RuntimeError("the sessions would expire during the run; raise STAKE")
            await control(url, tokens=tokens, rate=rate, stall_ms=0)

            direct = Tally()
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
                await run_clients(n, direct_seconds, direct, lambda i, ch: direct_prompt(http, url, ch), tokens)

            relayed, rss, stop = Tally(), list[tuple[float, float]](), asyncio.Event()
            sampler = asyncio.create_task(sample_rss(provider.pid, max(1.0, seconds / 60), rss, stop))
            cpu0, own0, t0 = cpu_seconds(provider.pid), cpu_seconds(), time.monotonic()
            async with pausing(provider.pid, *pauses) if pauses else contextlib.nullcontext():
                await run_clients(n, seconds, relayed,
                                  lambda i, ch: relayed_prompt(port, devnet, sessions[i], ch), tokens)
            elapsed = time.monotonic() - t0
            cpu, own = (cpu_seconds(provider.pid) - cpu0) / elapsed, (cpu_seconds() - own0) / elapsed
            stop.set()
            await sampler
        finally:
            final = await provider.stop() if provider is not None else {}
            await backend.stop()
    quarter = rss[len(rss) // 4][1] if rss else 0.0
    return {
        "sessions": n, "seconds": seconds, "rate_per_session": rate, "tokens_per_prompt": tokens,
        "provider_own_core": own_core,
        "pauses": {"pause_s": pauses[0], "period_s": pauses[1]} if pauses else None,
        "relay_turns": relay_turns,
        "direct": direct.summary(), "relayed": relayed.summary(),
        "added_chunk_latency_p50_ms": percentile(relayed.latencies_ms, 50) - percentile(direct.latencies_ms, 50),
        "added_chunk_latency_p99_ms": percentile(relayed.latencies_ms, 99) - percentile(direct.latencies_ms, 99),
        "chunks_per_s": relayed.chunks / seconds, "tokens_per_s": relayed.tokens / seconds,
        "load_average": [round(x, 1) for x in os.getloadavg()], "provider_cpu_cores": cpu, "consumers_cpu_cores": own,
        "provider_loop_lag": final.get("loop_lag", {}),
        "provider_options": {k: final.get(k) for k in
                             ("coalesce", "relay_turns", "relay_queued", "gc_freeze", "gc_frozen")},
        "provider_slow_callbacks": final.get("slow_callbacks", {}), "provider_rss_mb": rss,
        "rss_start_mb": rss[0][1] if rss else 0.0, "rss_end_mb": rss[-1][1] if rss else 0.0,
        "rss_growth_after_warmup_mb": (rss[-1][1] - quarter) if rss else 0.0,
        "rss_after_malloc_trim_mb": final.get("rss_after_malloc_trim_mb"),
        "driver_rss_mb": rss_mb(),
    }


def report(r: dict[str, Any]) -> None:
    d, x, lag = r["direct"], r["relayed"], r["provider_loop_lag"]
    print(f"{r['sessions']} sessions × {r['rate_per_session']:g} tok/s for {r['seconds']:.0f} s "
          f"({r['tokens_per_s']:,.0f} tokens/s in {r['chunks_per_s']:,.0f} chunks/s through one provider using "
          f"{r['provider_cpu_cores']:.2f} cores; load average {r['load_average']}; "
          f"the consumers used {r['consumers_cpu_cores']:.2f} cores"
          f"{'; the provider on a core of its own' if r.get('provider_own_core') else ''}"
          f"{pauses_note(r)}{'' if r.get('relay_turns', True) else '; relay budget off'})")
    print(f"{'path':<10} {'prompts':>8} {'chunks':>9} {'tokens':>9} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'max ms':>8} {'TTFT p50':>9} {'TTFT p99':>9}")
    for name, s in (("direct", d), ("relayed", x)):
        print(f"{name:<10} {s['prompts']:>8} {s['chunks']:>9} {s['tokens']:>9} {s['errors']:>7} "
              f"{s['chunk_latency_p50_ms']:>8.2f} {s['chunk_latency_p99_ms']:>8.2f} "
              f"{s['chunk_latency_max_ms']:>8.2f} {s['ttft_p50_ms']:>9.2f} {s['ttft_p99_ms']:>9.2f}")
    print(f"added by the router: p50 {r['added_chunk_latency_p50_ms']:.2f} ms, "
          f"p99 {r['added_chunk_latency_p99_ms']:.2f} ms;"
          f" provider loop lag max {lag.get('max_ms', 0):.1f} ms (p99 {lag.get('p99_ms', 0):.1f} ms),"
          f" longest loop iteration in CPU time {lag.get('cpu_max_ms', 0):.1f} ms ({lag.get('cpu_over_50ms', 0)}"
          f" of {lag.get('iterations', 0):,} > 50 ms;"
          f" its loop thread ran {lag.get('main_thread_cpu_s', 0):.1f} s and waited"
          f" {lag.get('main_thread_runqueue_wait_s', 0):.1f} s for a CPU); GC max {lag.get('gc_max_ms', {})};"
          f" provider RSS {r['rss_start_mb']:.0f} → {r['rss_end_mb']:.0f} MB"
          f" ({r['rss_growth_after_warmup_mb']:+.1f} MB after the first quarter"
          + (f"; {r['rss_after_malloc_trim_mb']:.0f} MB after malloc_trim" if r.get("rss_after_malloc_trim_mb") else "")
          + ")")
    print("provider options:", r["provider_options"])
    if lag.get("late_ticks"):
        print("the most delayed provider loop ticks (lag ms, seconds into the run):", lag["late_ticks"][:10])
    slow = r["provider_slow_callbacks"]
    if slow.get("count"):
        print(f"provider callbacks over 20 ms of CPU: {slow['count']}; the longest (CPU ms, wall ms, what):")
        for cpu_ms, wall_ms, what in slow["top"]:
            print(f"  {cpu_ms:7.1f} {wall_ms:8.1f}  {what}")
    if slow.get("iterations"):
        print(f"provider loop iterations over 20 ms of CPU: {slow['iterations']}; the longest (CPU ms, wall ms, what):")
        for cpu_ms, wall_ms, what in slow["top_iterations"]:
            print(f"  {cpu_ms:7.1f} {wall_ms:8.1f}  {what}")
    if x["error_samples"]:
        print("errors:", *x["error_samples"], sep="\n  ")


def pause_period(text: str) -> tuple[float, float]:
    """``100/2000`` → (0.1, 2.0) seconds."""
    try:
        pause, period = (float(part) / 1000 for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not PAUSE_MS/PERIOD_MS, e.g. 100/2000") from None
    if not 0 < pause < period:
        raise argparse.ArgumentTypeError(f"{text!r}: the pause must be shorter than the period, both above 0")
    return pause, period


def pauses_note(r: dict[str, Any]) -> str:
    """How the provider was paused, for the result's title (empty if it was not)."""
    p = r.get("pauses")
    return f"; the provider stopped {p['pause_s']:g} s of every {p['period_s']:g} s" if p else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=100)
    parser.add_argument("--seconds", type=float, default=60.0, help="relayed run length (default 60)")
    parser.add_argument("--minutes", type=float, help="soak: relayed run length in minutes (overrides --seconds)")
    parser.add_argument("--rate", type=float, default=20.0, help="tokens/s per session (default 20)")
    parser.add_argument("--tokens", type=int, default=200, help="tokens per answer (default 200)")
    parser.add_argument("--direct-seconds", type=float,
                        help="length of the direct (backend only) run (default: a quarter of the relayed, 5-20 s)")
    parser.add_argument("--own-core", action="store_true",
                        help="pin the provider to one CPU and everything else (consumers, backend, anvil) to the rest")
    parser.add_argument("--pauses", metavar="PAUSE_MS/PERIOD_MS", type=pause_period,
                        help="stop the provider process for PAUSE_MS of every PERIOD_MS (SIGSTOP/SIGCONT)")
    parser.add_argument("--no-relay-turns", action="store_true",
                        help="the provider seals every ready chunk at once (no relay budget per loop iteration)")
    args = parser.parse_args()
    seconds = args.minutes * 60 if args.minutes else args.seconds
    direct_seconds = args.direct_seconds or min(20.0, max(5.0, seconds / 4))
    result = asyncio.run(measure(args.sessions, seconds, args.rate, args.tokens, direct_seconds, args.own_core,
                                 args.pauses, not args.no_relay_turns))
    result["machine"] = machine()
    report(result)
    name = "bench_concurrency_soak" if args.minutes else "bench_concurrency"
    name += "_own_core" if args.own_core else ""
    name += "_paused" if args.pauses else ""
    name += "_no_relay_turns" if args.no_relay_turns else ""
    print(f"written: {write_result(name, result)}")


if __name__ == "__main__":
    main()
