"""Fuzz the provider's MOR-RPC server with hostile frames at volume: crashes, answers, throughput and memory.

Run: ``python3 tests/bench/bench_fuzz_morrpc.py --frames 100000`` (prints a table, writes
tests/bench/results/fuzz_morrpc.json; exits 1 on any crash).

A real provider (controller + server over a real Diamond on anvil) runs in its own thread. The hostile frames have
two origins, counted separately in the report:

- **hypothesis**: ``--hypothesis-share`` of ``--frames`` (default 50 %), all distinct, drawn by the Hypothesis
  strategies of tests/security/morrpc_frames.py (well-formed envelopes with hostile fields, raw bytes, cut-off and
  bit-flipped envelopes, nesting bombs, several objects per connection). Drawing costs ~9 ms of CPU per frame (the
  recursive JSON strategy itself; drawing many frames per ``st.data()`` example was tried: no faster per distinct
  frame, far more repeats), and ~a quarter of draws repeat an earlier frame, so they are drawn before the run by
  ``@given`` runs (``max_examples`` up to 2,000 each, no database) in one process per CPU until enough are
  distinct: ~5 min for 50,000 on 2 idle cores, ~13 min at load 4. The draw time and rate are in the report.
- **mutation**: the rest, from a seeded random mutator over the Hypothesis frames; every mutation changes its
  parent (cut short, a byte XOR-ed with a non-zero byte, spliced with another frame, repeated 2-4 times).

Besides those, a **valid** ping (the control) is sent after every ``--valid-every``-th hostile frame and must be
answered with its nonce. Each frame goes on a fresh connection from one of ``--workers`` client threads. A "crash"
is any of: an answer that is not nothing-or-one-error-envelope, a valid ping not answered with its nonce, an ERROR
logged by app.*, or a connection still open 10 s after the run.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import logging
import os
import platform
import random
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.bench.bench_env import write_result  # noqa: E402
from tests.router.provider.provider_env import models_config, running_devnet  # noqa: E402
from tests.router.provider.threaded_provider import provider_in_thread  # noqa: E402
from tests.security.morrpc_frames import check_answer, generate, pong_nonce, send_frame, valid_ping  # noqa: E402
from tests.support.openai_backend import OpenAIBackendServer  # noqa: E402

FRAMES_PER_TASK = 2_000  # Hypothesis examples in one @given run of a worker process
WARMUP_FRAMES = 2_000


def rss_kib() -> int:
    """This process's resident set (the server runs in it), from /proc."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def draw_distinct(count: int, seed: int, processes: int) -> tuple[list[bytes], int]:
    """``count`` distinct Hypothesis frames drawn by ``processes`` worker processes; also returns how many were drawn
    in all (repeats included: about a quarter of Hypothesis' draws repeat an earlier frame, e.g. ``{}``)."""
    distinct: dict[bytes, None] = {}  # insertion-ordered, so a seed gives the same frames in the same order
    drawn = task = 0
    with ProcessPoolExecutor(processes) as pool:
        while len(distinct) < count:
            ask = -(-(count - len(distinct)) * 135 // 100)  # ~35 % extra for the repeats
            rounds = min(4, -(-ask // (processes * FRAMES_PER_TASK)))  # tasks per process, each ≤ FRAMES_PER_TASK
            tasks = processes * rounds
            per_task = max(50, -(-ask // tasks))
            seeds = range(seed * 1_000_000 + task, seed * 1_000_000 + task + tasks)
            # One @given run per task (generate(): max_examples=per_task, no database), in parallel processes.
            for batch in pool.map(generate, [per_task] * tasks, seeds):
                drawn += len(batch)
                distinct.update(dict.fromkeys(batch))
            task += tasks
    return list(distinct)[:count], drawn


def mutate(rng: random.Random, parents: list[bytes]) -> bytes:
    """A frame from ``parents`` (all non-empty) changed by one operation; never an unchanged copy."""
    frame = rng.choice(parents)
    at = rng.randrange(len(frame))
    op = rng.randrange(4)
    if op == 0:
        return frame[:max(at, 1) if len(frame) > 1 else 0]  # cut short (not to nothing unless 1 byte long)
    if op == 1:
        return frame[:at] + bytes([frame[at] ^ rng.randrange(1, 256)]) + frame[at + 1:]  # one byte changed
    if op == 2:
        return frame[:at] + rng.choice(parents) + frame[at:]  # another frame spliced in
    return frame * rng.randint(2, 4)  # repeated


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("app."):
            self.records.append(record.getMessage())


def hostile_frames(pool: list[bytes], sent: int, count: int, seed: int) -> tuple[list[bytes], list[str]]:
    """``count`` frames: the first ``sent`` of the Hypothesis ``pool``, then mutations of the pool; and each frame's
    origin."""
    rng = random.Random(seed)
    chosen = pool[:min(sent, count)]
    parents = [frame for frame in pool if frame] or [b"{}"]
    mutated = [mutate(rng, parents) for _ in range(count - len(chosen))]
    return chosen + mutated, ["hypothesis"] * len(chosen) + ["mutation"] * len(mutated)


def fuzz(port: int, batch: list[bytes], origins: list[str], workers: int, valid_every: int) -> dict[str, Any]:
    """Send every frame of ``batch`` on its own connection (plus the valid pings); outcomes by origin and crashes."""
    outcomes: dict[str, Counter[str]] = {"hypothesis": Counter(), "mutation": Counter(), "valid": Counter()}
    crashes: list[str] = []
    lock = threading.Lock()

    def worker(index: int) -> None:
        for n in range(index, len(batch), workers):
            frame = batch[n]
            try:
                kind = check_answer(frame, send_frame(port, frame))
            except Exception as e:  # every failure is a finding: record it with the frame
                with lock:
                    crashes.append(f"{origins[n]}: {type(e).__name__}: {e!r:.300} frame={frame[:120]!r}")
                continue
            with lock:
                outcomes[origins[n]][kind] += 1
            if n % valid_every == 0:
                nonce = os.urandom(8)
                try:
                    answered = pong_nonce(send_frame(port, valid_ping(nonce)))
                except Exception as e:
                    answered = f"{type(e).__name__}: {e!r:.200}"
                with lock:
                    if answered == "0x" + nonce.hex():
                        outcomes["valid"]["pong with its nonce"] += 1
                    else:
                        outcomes["valid"]["wrong or no answer"] += 1
                        crashes.append(f"valid ping after frame {n} not answered with its nonce: {answered:.200}")

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(worker, range(workers)))
    return {"outcomes": {origin: dict(c) for origin, c in outcomes.items()}, "crashes": crashes}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000, help="hostile frames sent (default 100,000)")
    parser.add_argument("--hypothesis-share", type=float, default=0.5,
                        help="share of --frames drawn by Hypothesis, all distinct (default 0.5); the rest mutated")
    parser.add_argument("--processes", type=int, default=len(os.sched_getaffinity(0)),
                        help="processes drawing Hypothesis frames (default: the usable CPUs)")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--valid-every", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.frames < 1 or not 0 <= args.hypothesis_share <= 1:
        parser.error("--frames must be positive and --hypothesis-share within 0..1")
    return args


async def measure(args: argparse.Namespace, batch: list[bytes], origins: list[str],
                  warmup: list[bytes]) -> tuple[dict[str, Any], int, int, int, float]:
    """Start a devnet, a backend and the provider; warm it up, then send ``batch``; (result, RSS before, after,
    connections left open, seconds)."""
    async with running_devnet() as devnet, OpenAIBackendServer() as llm:
        protocol = devnet.protocol

        def run() -> tuple[dict[str, Any], int, int, int, float]:
            with provider_in_thread(protocol.provider.signer, devnet.node.rpc_url, protocol.addresses.diamond,
                                    models_config(devnet.model_id, llm), first_byte_timeout=2,
                                    request_timeout=4) as server:
                port = server.address[1]
                # Warm up (not counted): the server's caches and allocator reach their working size first.
                warm = fuzz(port, warmup, ["hypothesis"] * len(warmup), args.workers, args.valid_every)
                gc.collect()
                before = rss_kib()
                t0 = time.perf_counter()
                result = fuzz(port, batch, origins, args.workers, args.valid_every)
                elapsed = time.perf_counter() - t0
                gc.collect()
                after = rss_kib()
                deadline = time.monotonic() + 10
                while server.connections and time.monotonic() < deadline:
                    time.sleep(0.05)
                result["crashes"] = [f"warm-up: {c}" for c in warm["crashes"]] + result["crashes"]
                return result, before, after, server.connections, elapsed

        return await asyncio.to_thread(run)


def main() -> int:
    args = parse_args()
    wanted = round(args.frames * args.hypothesis_share)
    started = time.perf_counter()
    # Drawn before the devnet starts: the worker processes fork from a process with no threads or loop yet.
    pool, drawn = draw_distinct(max(wanted, 1), args.seed, max(1, args.processes))  # mutations need a parent
    drawn_s = time.perf_counter() - started
    batch, origins = hostile_frames(pool, wanted, args.frames, args.seed)
    errors = ErrorLog()
    logging.getLogger().addHandler(errors)
    warmup = pool[:WARMUP_FRAMES]
    result, before, after, left_open, elapsed = asyncio.run(measure(args, batch, origins, warmup))

    crashes = result["crashes"] + [f"logged ERROR: {m}" for m in errors.records]
    if left_open:
        crashes.append(f"{left_open} connections still open 10 s after the run")
    outcomes = result["outcomes"]
    by_origin = {origin: sum(counts.values()) for origin, counts in outcomes.items()}
    distinct = {o: len({f for f, fo in zip(batch, origins, strict=True) if fo == o})
                for o in ("hypothesis", "mutation")}
    report = {
        "frames": args.frames,
        "frames_by_origin": {"hypothesis": origins.count("hypothesis"), "mutation": origins.count("mutation"),
                             "valid": by_origin["valid"]},
        "distinct_by_origin": distinct,
        "hypothesis_share": round(origins.count("hypothesis") / args.frames, 3),
        "hypothesis_drawn_with_repeats": drawn,
        "hypothesis_draw_s": round(drawn_s, 1),
        "hypothesis_frames_per_s": round(drawn / drawn_s, 1) if drawn_s else 0.0,
        "hypothesis_processes": args.processes,
        "warmup_frames": len(warmup),
        "workers": args.workers,
        "valid_every": args.valid_every,
        "seconds": round(elapsed, 1),
        "frames_per_s": round((args.frames + by_origin["valid"]) / elapsed),
        "outcomes": outcomes,
        "crashes": len(crashes),
        "crash_examples": crashes[:10],
        "rss_kib_before": before,
        "rss_kib_after": after,
        "rss_growth_kib": after - before,
        "load_average": [round(x, 1) for x in os.getloadavg()],
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    print(f"{'hostile frames':<34}{args.frames:>12,}")
    for origin in ("hypothesis", "mutation"):
        print(f"{'  from ' + origin + ' (distinct)':<34}{origins.count(origin):>12,} ({distinct[origin]:,})")
    print(f"{'valid control pings':<34}{by_origin['valid']:>12,}")
    print(f"{'Hypothesis draw':<34}{drawn_s:>11.0f}s ({drawn:,} drawn, {args.processes} processes)")
    print(f"{'frames/s (sending)':<34}{report['frames_per_s']:>12,}")
    for origin, counts in outcomes.items():
        for kind, count in sorted(counts.items()):
            print(f"{'  ' + origin + ': ' + kind:<34}{count:>12,}")
    print(f"{'crashes':<34}{len(crashes):>12}")
    print(f"{'RSS before → after (KiB)':<34}{before:>12,} → {after:,}")
    for line in crashes[:10]:
        print("  crash:", line)
    write_result("fuzz_morrpc", report)
    return 1 if crashes else 0


if __name__ == "__main__":
    sys.exit(main())
