"""Fuzz the provider's MOR-RPC server with hostile frames at volume: crashes, answers, throughput and memory.

Run: ``python3 tests/bench/bench_fuzz_morrpc.py --frames 100000`` (prints a table, writes
tests/bench/results/fuzz_morrpc.json; exits 1 on any crash).

A real provider (controller + server over a real Diamond on anvil) runs in its own thread. Hypothesis draws a seed
pool of frames (well-formed envelopes with hostile fields, raw bytes, cut-off and bit-flipped envelopes, nesting
bombs, several objects per connection); a seeded random mutator (cut, splice, flip, repeat) grows it to ``--frames``,
because Hypothesis' own generation (~10 ms per frame) would dominate. Each frame goes on a fresh connection from one
of ``--workers`` client threads. A "crash" is any of: an answer that is not nothing-or-one-error-envelope, a valid
ping (sent every ``--valid-every`` frames) that is not answered with its nonce, or an ERROR logged by app.*.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import platform
import random
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.router.provider.provider_env import models_config, running_devnet  # noqa: E402
from tests.router.provider.threaded_provider import provider_in_thread  # noqa: E402
from tests.security.morrpc_frames import check_answer, generate, pong_nonce, send_frame, valid_ping  # noqa: E402
from tests.support.openai_backend import OpenAIBackendServer  # noqa: E402


def rss_kib() -> int:
    """This process's resident set (the server runs in it), from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def mutate(rng: random.Random, pool: list[bytes]) -> bytes:
    frame = rng.choice(pool)
    op = rng.randrange(5)
    if op == 0 or not frame:
        return frame
    at = rng.randrange(len(frame))
    if op == 1:
        return frame[:at]  # cut
    if op == 2:
        return frame[:at] + bytes([rng.randrange(256)]) + frame[at + 1:]  # flip
    if op == 3:
        return frame[:at] + rng.choice(pool)  # splice
    return frame * rng.randint(2, 4)  # repeat


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("app."):
            self.records.append(record.getMessage())


def fuzz(port: int, frames: int, seed_pool: list[bytes], workers: int, valid_every: int, seed: int) -> dict:
    outcomes: Counter[str] = Counter()
    crashes: list[str] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        rng = random.Random(seed + index)
        for n in range(index, frames, workers):
            frame = seed_pool[n] if n < len(seed_pool) else mutate(rng, seed_pool)
            try:
                kind = check_answer(frame, send_frame(port, frame))
                if n % valid_every == 0:
                    nonce = os.urandom(8)
                    if pong_nonce(send_frame(port, valid_ping(nonce))) != "0x" + nonce.hex():
                        raise AssertionError("valid ping answered with another nonce")
                    kind_valid = "valid ping ok"
                else:
                    kind_valid = ""
            except Exception as e:  # every failure is a finding: record it with the frame
                with lock:
                    crashes.append(f"{type(e).__name__}: {e!r:.300} frame={frame[:120]!r}")
                continue
            with lock:
                outcomes[kind] += 1
                if kind_valid:
                    outcomes[kind_valid] += 1

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(worker, range(workers)))
    return {"outcomes": dict(outcomes), "crashes": crashes}


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--seed-frames", type=int, default=2_000, help="frames drawn by Hypothesis")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--valid-every", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)

    started = time.perf_counter()
    seed_pool = await asyncio.to_thread(generate, min(args.seed_frames, args.frames), args.seed)
    drawn_s = time.perf_counter() - started
    async with running_devnet() as devnet, OpenAIBackendServer() as llm:
        protocol = devnet.protocol

        def run() -> tuple[dict, int, int, int, float]:
            with provider_in_thread(protocol.provider.signer, devnet.node.rpc_url, protocol.addresses.diamond,
                                    models_config(devnet.model_id, llm), first_byte_timeout=2,
                                    request_timeout=4) as server:
                port = server.address[1]
                fuzz(port, min(2_000, args.frames), seed_pool, args.workers, args.valid_every, args.seed)  # warm up
                gc.collect()
                before = rss_kib()
                t0 = time.perf_counter()
                result = fuzz(port, args.frames, seed_pool, args.workers, args.valid_every, args.seed + 1000)
                elapsed = time.perf_counter() - t0
                gc.collect()
                after = rss_kib()
                deadline = time.monotonic() + 10
                while server.connections and time.monotonic() < deadline:
                    time.sleep(0.05)
                return result, before, after, server.connections, elapsed

        result, before, after, left_open, elapsed = await asyncio.to_thread(run)

    crashes = result["crashes"] + [f"logged ERROR: {m}" for m in errors.records]
    if left_open:
        crashes.append(f"{left_open} connections still open 10 s after the run")
    report = {
        "frames": args.frames,
        "seed_frames_from_hypothesis": len(seed_pool),
        "hypothesis_draw_s": round(drawn_s, 1),
        "workers": args.workers,
        "seconds": round(elapsed, 1),
        "frames_per_s": round(args.frames / elapsed),
        "outcomes": result["outcomes"],
        "crashes": len(crashes),
        "crash_examples": crashes[:10],
        "rss_kib_before": before,
        "rss_kib_after": after,
        "rss_growth_kib": after - before,
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    print(f"{'frames':<28}{args.frames:>12}")
    print(f"{'frames/s':<28}{report['frames_per_s']:>12}")
    for kind, count in sorted(result["outcomes"].items()):
        print(f"{'  ' + kind:<28}{count:>12}")
    print(f"{'crashes':<28}{len(crashes):>12}")
    print(f"{'RSS before (KiB)':<28}{before:>12}")
    print(f"{'RSS after (KiB)':<28}{after:>12}")
    for line in crashes[:10]:
        print("  crash:", line)
    out = ROOT / "tests" / "bench" / "results" / "fuzz_morrpc.json"
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
