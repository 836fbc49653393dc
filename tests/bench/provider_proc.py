"""Our provider router alone in its own process (as in production), for the relay and concurrency benchmarks.

``python3 -m tests.bench.provider_proc --rpc-url U --diamond A --model-id 0x.. --backend-url U [--key-index 1]``
prints ``{"port": ...}`` once MOR-RPC listens, serves until stdin closes, then prints its loop-lag summary and the
number of requests served. Its pid is what the parent samples for RSS and what py-spy attaches to.

For before/after comparisons in one run, ``BENCH_NO_COALESCE=1`` turns adaptive batching off (one response per
backend chunk, as before), ``BENCH_NO_RELAY_TURNS=1`` lifts the relay budget per loop iteration (every chunk
sealed in the iteration it is ready, as before) and ``BENCH_NO_GC_FREEZE=1`` skips the ``gc.freeze()`` that
ProviderNode.start does.
``BENCH_TRACEMALLOC=N`` traces allocations: a snapshot N seconds after start (past warm-up) and one at the end;
the total change and the 15 sites whose live memory grew most between them are printed to stderr (where the RSS
goes).
``BENCH_MALLOC_STATS=1`` prints pymalloc's arena statistics at start and end (``sys._debugmallocstats``).
``BENCH_MEMORY_PROBE=S`` prints a JSON line to stderr every S seconds splitting the RSS: anonymous vs file-backed
pages (/proc), glibc's heap in use / free / mmapped (``mallinfo2``), live pymalloc blocks and gc-tracked objects.
``--cpu N`` pins the process to CPU N before any thread starts (the concurrency benchmark's ``--own-core``).
``BENCH_SLOW_CALLBACKS=1`` reports the loop callbacks that used more than 20 ms of CPU, with the coroutine and line
each task step stopped at and whether a GC pass ran inside, and the loop iterations over 20 ms with their callbacks
grouped by kind: asyncio's debug mode (``slow_callback_duration``)
times callbacks by the wall clock, which on a loaded machine mostly measures the time the OS did not run us.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import ctypes
import gc
import json
import logging
import math
import os
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from app.chain.client import ChainClient
from app.chain.diamond import Diamond
from app.config.models_config import parse_models_config
from app.devnet.accounts import dev_private_keys
from app.router.provider import controller as controller_module
from app.router.provider.backend_pool import BackendPool
from app.router.provider.controller import ProviderController
from app.router.provider.node import freeze_startup_heap
from app.router.provider.server import MorRpcServer
from app.wallet.signer import KeySigner
from tests.bench.bench_env import LoopLagMonitor, announce, rss_mb, wait_for_stdin_eof

SLOW_MS = 20.0
slow_callbacks: list[tuple[float, float, str]] = []  # (CPU ms, wall ms, what)
slow_iterations: list[tuple[float, float, str]] = []  # (CPU ms, wall ms, when and its callbacks by kind)


def _task_of(handle: asyncio.Handle) -> asyncio.Task[Any] | None:
    task = getattr(handle._callback, "__self__", None)  # type: ignore[attr-defined]
    return task if isinstance(task, asyncio.Task) else None


def _kind(handle: asyncio.Handle) -> str:
    """What a callback is, without where it stopped (for grouping): the task's coroutine or the callback's name."""
    task = _task_of(handle)
    if task is not None:
        return "task " + getattr(task.get_coro(), "__qualname__", "?")
    callback = handle._callback  # type: ignore[attr-defined]
    return getattr(callback, "__qualname__", type(callback).__name__)


def _describe(handle: asyncio.Handle) -> str:
    """What a callback is and, for a task step, the line its coroutine stopped at."""
    task = _task_of(handle)
    if task is None:
        return repr(handle)[:160]
    frame = getattr(task.get_coro(), "cr_frame", None)
    where = f"{frame.f_code.co_filename.rsplit('/', 2)[-1]}:{frame.f_lineno}" if frame else "finished"
    return f"{_kind(handle)} (now at {where})"


def time_callbacks(loop: asyncio.AbstractEventLoop) -> None:
    """Wrap every loop callback with a CPU-time measurement (bench only: ~1 µs per callback).

    A callback over ``SLOW_MS`` is recorded alone; a loop iteration over ``SLOW_MS`` made of many short callbacks
    is recorded with its callbacks grouped by kind (task coroutine or callback), the costliest kinds first.
    """
    run = asyncio.Handle._run
    in_iteration: list[tuple[float, asyncio.Handle, bool]] = []  # described only when the iteration was slow
    collections = [0]  # a gc callback counts passes: gc.get_stats() per callback cost ~20% of the CPU measured

    def count_collection(phase: str, info: dict[str, int]) -> None:
        if phase == "stop":
            collections[0] += 1

    gc.callbacks.append(count_collection)

    def timed(handle: asyncio.Handle) -> None:
        before = collections[0]
        cpu, wall = time.thread_time(), time.perf_counter()
        run(handle)
        used = (time.thread_time() - cpu) * 1000
        gc_ran = collections[0] != before
        if used > SLOW_MS:
            what = _describe(handle) + (" [GC ran inside]" if gc_ran else "")
            slow_callbacks.append((round(used, 1), round((time.perf_counter() - wall) * 1000, 1), what))
        in_iteration.append((used, handle, gc_ran))

    run_once = loop._run_once  # type: ignore[attr-defined]
    began = time.perf_counter()

    def timed_run_once() -> None:
        in_iteration.clear()
        cpu, wall = time.thread_time(), time.perf_counter()
        run_once()
        used = (time.thread_time() - cpu) * 1000
        if used > SLOW_MS:
            kinds: dict[str, list[float]] = {}
            for ms, handle, gc_ran in in_iteration:
                kinds.setdefault(_kind(handle) + (" [GC]" if gc_ran else ""), []).append(ms)
            top = sorted(kinds.items(), key=lambda item: sum(item[1]), reverse=True)[:6]
            what = f"at {wall - began:.1f} s, {len(in_iteration)} callbacks: " + "; ".join(
                f"{len(times)}× {kind} {sum(times):.1f} ms (max {max(times):.1f})" for kind, times in top)
            slow_iterations.append((round(used, 1), round((time.perf_counter() - wall) * 1000, 1), what))

    asyncio.Handle._run = timed  # type: ignore[method-assign,assignment]
    loop._run_once = timed_run_once  # type: ignore[attr-defined]


async def _trace_growth(after_s: float) -> None:
    """Print the allocation sites that grew between a snapshot after ``after_s`` and the end of the run."""
    tracemalloc.start(8)
    await asyncio.sleep(after_s)
    first = tracemalloc.take_snapshot()
    try:
        await asyncio.Event().wait()
    finally:
        last = tracemalloc.take_snapshot()
        diffs = last.compare_to(first, "traceback")
        grown = sorted((d for d in diffs if d.size_diff > 0), key=lambda d: d.size_diff, reverse=True)
        print(f"traced: {sum(d.size_diff for d in diffs) / 1024:+.1f} KiB, {sum(d.count_diff for d in diffs):+d} blocks"
              f" in all; {sum(d.size_diff for d in grown) / 1024:+.1f} KiB in the {len(grown)} sites that grew",
              file=sys.stderr)
        for stat in grown[:15]:
            print(f"{stat.size_diff / 1024:+9.1f} KiB {stat.count_diff:+8d} blocks", file=sys.stderr)
            for line in stat.traceback.format()[-8:]:
                print("    " + line, file=sys.stderr)


class _MallInfo2(ctypes.Structure):
    _fields_ = [(name, ctypes.c_size_t) for name in
                ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks", "uordblks", "fordblks",
                 "keepcost")]


def memory_breakdown() -> dict[str, float]:
    """Where this process's resident memory is, in MB (Linux/glibc)."""
    mb = 1024 * 1024
    status = {k: int(v.split()[0]) / 1024 for k, v in
              (line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines()
               if line.startswith("Rss"))}
    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = _MallInfo2
    info = libc.mallinfo2()
    return {**{k.lower(): round(v, 1) for k, v in status.items()},
            "malloc_in_use": round(info.uordblks / mb, 1), "malloc_free": round(info.fordblks / mb, 1),
            "malloc_mmapped": round(info.hblkhd / mb, 1), "malloc_arena": round(info.arena / mb, 1),
            "pymalloc_blocks": sys.getallocatedblocks(), "gc_objects": len(gc.get_objects())}


async def _probe_memory(every_s: float) -> None:
    started = time.monotonic()
    while True:
        print(json.dumps({"t": round(time.monotonic() - started), **memory_breakdown()}), file=sys.stderr, flush=True)
        await asyncio.sleep(every_s)


async def main(args: argparse.Namespace) -> None:
    entry = {"modelId": args.model_id, "modelName": "bench-model", "apiType": "openai", "apiUrl": args.backend_url}
    models = parse_models_config({"models": [entry]}, "bench models-config")
    monitor = LoopLagMonitor()
    async with ChainClient([args.rpc_url], backoff=0.05) as client:
        await client.connect()
        pool = BackendPool(models, llm_timeout=60)
        signer = KeySigner(dev_private_keys()[args.key_index])
        controller = ProviderController(signer, Diamond(client, args.diamond), client, pool)
        server = MorRpcServer(controller, "127.0.0.1", args.port, max_connections=4096)
        await server.start()
        if os.environ.get("BENCH_NO_COALESCE") == "1":
            controller_module.coalesce = list  # type: ignore[attr-defined,assignment]
        if os.environ.get("BENCH_NO_RELAY_TURNS") == "1":
            controller.turns.budget_s = math.inf  # every chunk sealed at once, however long the iteration gets
        if os.environ.get("BENCH_NO_GC_FREEZE") != "1":
            freeze_startup_heap()  # as ProviderNode.start does
        if os.environ.get("BENCH_SLOW_CALLBACKS") == "1":
            time_callbacks(asyncio.get_running_loop())
        if os.environ.get("BENCH_MALLOC_STATS") == "1":
            sys._debugmallocstats()
        monitor.start()
        trace = asyncio.ensure_future(_trace_growth(float(os.environ["BENCH_TRACEMALLOC"]))) \
            if os.environ.get("BENCH_TRACEMALLOC") else None
        probe = asyncio.ensure_future(_probe_memory(float(os.environ["BENCH_MEMORY_PROBE"]))) \
            if os.environ.get("BENCH_MEMORY_PROBE") else None
        announce({"port": server.address[1], "rss_mb": rss_mb()})
        try:
            await wait_for_stdin_eof()
        finally:
            await monitor.stop()
            if probe is not None:
                probe.cancel()
            if trace is not None:
                trace.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await trace
            await server.stop()
            await pool.close()
    rss_end = rss_mb()
    if os.environ.get("BENCH_MALLOC_STATS") == "1":
        sys._debugmallocstats()  # pymalloc arenas and pools at the end, on stderr
    gc.collect()
    trimmed = ctypes.CDLL("libc.so.6").malloc_trim(0) if sys.platform == "linux" else 0
    announce({"served": server.served, "loop_lag": monitor.summary(), "rss_mb": rss_end,
              # Freed-but-kept heap pages handed back to the OS: what RSS growth is allocator slack, not live data.
              "rss_after_malloc_trim_mb": rss_mb() if trimmed else None,
              "coalesce": os.environ.get("BENCH_NO_COALESCE") != "1",
              "relay_turns": os.environ.get("BENCH_NO_RELAY_TURNS") != "1", "relay_queued": controller.turns.queued,
              "gc_freeze": os.environ.get("BENCH_NO_GC_FREEZE") != "1", "gc_frozen": gc.get_freeze_count(),
              "slow_callbacks": {"count": len(slow_callbacks), "top": sorted(slow_callbacks, reverse=True)[:15],
                                 "iterations": len(slow_iterations),
                                 "top_iterations": sorted(slow_iterations, reverse=True)[:15]}})


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rpc-url", required=True)
    parser.add_argument("--diamond", required=True)
    parser.add_argument("--model-id", required=True)
    parser.add_argument("--backend-url", required=True)
    parser.add_argument("--key-index", type=int, default=1)
    parser.add_argument("--port", type=int, default=0, help="MOR-RPC port (default: any free one)")
    parser.add_argument("--cpu", type=int, help="pin this process to one CPU (before any thread starts)")
    arguments = parser.parse_args()
    if arguments.cpu is not None:
        os.sched_setaffinity(0, {arguments.cpu})
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(arguments))
