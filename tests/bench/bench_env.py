"""Shared benchmark helpers: child processes that announce their ports, RSS, percentiles, loop lag, the machine."""

from __future__ import annotations

import asyncio
import gc
import json
import os
import platform
import sys
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RESULTS = Path(__file__).resolve().parent / "results"


def results_dir() -> Path:
    """Where results go: ``$BENCH_RESULTS_DIR`` when set (smoke runs must not overwrite the real numbers), else
    tests/bench/results/."""
    override = os.environ.get("BENCH_RESULTS_DIR")
    return Path(override) if override else RESULTS


def write_result(name: str, data: dict[str, Any] | list[Any]) -> Path:
    """Write ``<results_dir()>/<name>.json`` (run_all.py collects them) and return the path."""
    folder = results_dir()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.json"
    path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    return path


def machine() -> dict[str, Any]:
    """CPU model, cores usable by this process, RAM and Python: the context every number needs."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram_gb = 0.0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram_gb = int(line.split()[1]) / 1024 / 1024
    except OSError:
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 0
    return {"cpu": cpu, "cores": cores, "ram_gb": round(ram_gb, 1), "python": platform.python_version(),
            "os": f"{platform.system()} {platform.release()}"}


def rss_mb(pid: int | None = None) -> float:
    """Resident set size of ``pid`` (this process by default) in MB, from /proc (Linux)."""
    path = Path(f"/proc/{pid or os.getpid()}/status")
    for line in path.read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time consumed so far by ``pid`` (this process by default), from /proc (Linux)."""
    fields = Path(f"/proc/{pid or os.getpid()}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0–100) by linear interpolation between ranks; 0.0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


class Histogram:
    """Durations in ms at 0.1 ms grain: percentiles, max and counts in constant memory.

    A benchmark process that kept every sample in a list would grow by ~40 bytes per sample (a loop-lag probe every
    10 ms: ~2 MB in a 10-minute soak) and blur the very RSS measurement it sits beside.
    """

    def __init__(self) -> None:
        self.buckets: Counter[int] = Counter()
        self.count = 0
        self.max = 0.0
        self.over_50 = 0

    def add(self, ms: float) -> None:
        ms = max(ms, 0.0)
        self.buckets[round(ms * 10)] += 1
        self.count += 1
        self.max = max(self.max, ms)
        self.over_50 += ms > 50

    def percentile(self, q: float) -> float:
        """The smallest recorded value (to 0.1 ms) with at least ``q`` % of the samples at or below it."""
        needed, seen = self.count * q / 100, 0
        for tenths in sorted(self.buckets):
            seen += self.buckets[tenths]
            if seen >= needed:
                return tenths / 10
        return 0.0


def sched_seconds(pid: int | None = None) -> tuple[float, float]:
    """(seconds on a CPU, seconds runnable but waiting for one) of ``pid``'s main thread (Linux schedstat)."""
    try:
        on_cpu, waiting, _ = Path(f"/proc/{pid or os.getpid()}/schedstat").read_text().split()
    except (OSError, ValueError):
        return 0.0, 0.0
    return int(on_cpu) / 1e9, int(waiting) / 1e9


LATE_MS = 25.0
"""A tick later than this is kept with its time, for the summary's ``late_ticks``."""


class LoopLagMonitor:
    """Measures event-loop stalls: a task asks to wake every ``interval`` s and records how late it woke.

    Garbage-collector pauses are timed too (``gc.callbacks``): a long gen-2 collection is a stall no profile of
    our own code shows. A late tick has two causes: our code held the loop, or the OS did not run the process
    (a loaded machine). To tell them apart, every loop iteration's CPU time (``time.thread_time`` around
    ``_run_once``; waiting in select costs none) is recorded: an iteration that used more than 50 ms of CPU is a
    stall our own code (callbacks, GC inside them) caused, whatever the machine's load. The loop thread's
    run-queue wait (Linux schedstat) says how long it was runnable but not running.
    """

    def __init__(self, interval: float = 0.01) -> None:
        self.interval = interval
        self.lags_ms = Histogram()
        self.iteration_cpu_max_ms = 0.0
        self.iterations_over_50ms = 0
        self.iterations = 0
        self._sched0 = (0.0, 0.0)
        self._loop: asyncio.AbstractEventLoop | None = None
        self.gc_ms: dict[int, Histogram] = {0: Histogram(), 1: Histogram(), 2: Histogram()}
        self._gc_start = 0.0
        self._task: asyncio.Task[None] | None = None
        self._started = 0.0
        self.late_ticks: list[tuple[float, float]] = []  # (lag ms, seconds since start) of ticks over LATE_MS

    def _on_gc(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._gc_start = time.perf_counter()
        else:
            self.gc_ms[info["generation"]].add((time.perf_counter() - self._gc_start) * 1000)

    def start(self) -> None:
        self._sched0 = sched_seconds()
        gc.callbacks.append(self._on_gc)
        loop = self._loop = asyncio.get_running_loop()
        run_once = loop._run_once  # type: ignore[attr-defined]

        def timed_run_once() -> None:
            cpu = time.thread_time()
            run_once()
            used = (time.thread_time() - cpu) * 1000
            self.iterations += 1
            if used > 50:
                self.iterations_over_50ms += 1
            self.iteration_cpu_max_ms = max(self.iteration_cpu_max_ms, used)

        loop._run_once = timed_run_once  # type: ignore[attr-defined]
        self._task = loop.create_task(self._run())

    async def stop(self) -> None:
        if self._loop is not None:
            vars(self._loop).pop("_run_once", None)  # the instance attribute shadowed the method
        if self._on_gc in gc.callbacks:
            gc.callbacks.remove(self._on_gc)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _run(self) -> None:
        self._started = time.perf_counter()
        while True:
            start = time.perf_counter()
            await asyncio.sleep(self.interval)
            lag = (time.perf_counter() - start - self.interval) * 1000
            self.lags_ms.add(lag)
            if lag > LATE_MS and len(self.late_ticks) < 1000:  # when they happened: a pattern names a cause
                self.late_ticks.append((round(lag, 1), round(start - self._started, 1)))

    def summary(self) -> dict[str, Any]:
        lags = self.lags_ms
        on_cpu, waiting = (now - then for now, then in zip(sched_seconds(), self._sched0, strict=True))
        return {"max_ms": lags.max, "p99_ms": lags.percentile(99), "samples": lags.count, "over_50ms": lags.over_50,
                "cpu_max_ms": self.iteration_cpu_max_ms, "cpu_over_50ms": self.iterations_over_50ms,
                "iterations": self.iterations,
                "main_thread_cpu_s": round(on_cpu, 2), "main_thread_runqueue_wait_s": round(waiting, 2),
                "gc_max_ms": {str(g): round(v.max, 1) for g, v in self.gc_ms.items()},
                "gc_count": {str(g): v.count for g, v in self.gc_ms.items()},
                "late_ticks": sorted(self.late_ticks, reverse=True)[:20]}


@dataclass
class Child:
    """A benchmark child process that printed one JSON line (its ports) on start."""

    process: asyncio.subprocess.Process
    info: dict[str, Any]

    @property
    def pid(self) -> int:
        return self.process.pid

    async def stop(self, within: float = 10.0) -> dict[str, Any]:
        """Close its stdin (the signal to end) and return the JSON line it prints last (empty if none)."""
        proc = self.process
        if proc.stdin is not None:
            proc.stdin.close()
        final: dict[str, Any] = {}
        try:
            async with asyncio.timeout(within):
                assert proc.stdout is not None
                async for line in proc.stdout:
                    if line.startswith(b"{"):
                        final = json.loads(line)
                await proc.wait()
        except TimeoutError:
            proc.kill()
            await proc.wait()
        return final


async def spawn(module: str, *args: str, within: float = 30.0) -> Child:
    """Run ``python3 -m <module> <args>`` from the repo root and wait for its first JSON line."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", module, *args, cwd=ROOT, stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(within):
            while True:
                line = await proc.stdout.readline()
                if not line:
                    raise RuntimeError(f"{module} exited before it was ready (code {await proc.wait()})")
                if line.startswith(b"{"):
                    return Child(proc, json.loads(line))
    except BaseException:
        proc.kill()
        await proc.wait()
        raise


async def wait_for_stdin_eof() -> None:
    """In a child: return when the parent closes our stdin (or dies)."""
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    while await reader.read(4096):
        pass


def announce(info: dict[str, Any]) -> None:
    """In a child: print one JSON line for the parent."""
    sys.stdout.write(json.dumps(info) + "\n")
    sys.stdout.flush()
