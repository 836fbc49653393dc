"""Every benchmark in tests/bench runs at its smallest size, exits 0 and writes the JSON run_all.py turns into rows.

The benchmarks never run in CI, so an API change could break them unnoticed. Here each one runs as a subprocess
(as run_all.py runs it) with tiny sizes, a few at a time, writing into a temporary folder (``BENCH_RESULTS_DIR``)
so the real numbers in tests/bench/results/ are never overwritten. Then run_all.py ``--table-only`` must render a
row for each of them from that folder. The numbers themselves mean nothing at this size and are not checked.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from app.devnet.anvil import find_anvil

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "tests" / "bench"
REAL_RESULTS = BENCH / "results"
PARALLEL = 3  # most of a smoke run is waiting (anvil, deploys, paced streams), so three at once fit two cores
PER_BENCH_TIMEOUT_S = 240.0  # a loaded CI machine: the startup smoke took 94 s at load 10 on 2 cores

pytestmark = [pytest.mark.slow, pytest.mark.anvil, pytest.mark.timeout(600)]


@dataclass(frozen=True)
class Smoke:
    """One benchmark at smoke size: its module, arguments, the file it writes, the keys run_all.py reads there and
    words that must appear in the rows run_all.py makes of it."""

    module: str
    args: tuple[str, ...]
    result: str
    keys: frozenset[str]
    rows: tuple[str, ...]


SMOKES: dict[str, Smoke] = {
    "relay_e2e": Smoke("bench_relay_e2e", ("--repeats", "2", "--scale", "0.05"), "bench_relay_e2e.json",
                       frozenset({"rows"}), ("relay added TTFT", "relay throughput, paced 50 tok/s", "relay ceiling")),
    "provider_relay": Smoke("bench_provider_relay", ("--tokens", "100", "--repeats", "1"), "bench_provider_relay.json",
                            frozenset({"rows"}), ("provider alone in-process, saturated (provider+consumer)",)),
    "concurrency": Smoke("bench_concurrency", ("--sessions", "3", "--seconds", "3", "--direct-seconds", "1",
                                               "--tokens", "20"), "bench_concurrency.json",
                         frozenset({"relayed", "direct", "provider_loop_lag", "sessions", "rate_per_session",
                                    "seconds", "added_chunk_latency_p50_ms", "added_chunk_latency_p99_ms",
                                    "rss_start_mb", "rss_end_mb", "rss_growth_after_warmup_mb", "provider_cpu_cores",
                                    "provider_rss_mb"}),
                         ("3 sessions × 20 tok/s", "provider event-loop stall", "provider RSS after warm-up")),
    "concurrency_paused": Smoke("bench_concurrency", ("--sessions", "3", "--seconds", "3", "--direct-seconds", "1",
                                                      "--tokens", "20", "--pauses", "50/500", "--no-relay-turns"),
                                "bench_concurrency_paused_no_relay_turns.json",
                                frozenset({"pauses", "relay_turns", "provider_loop_lag"}),
                                ("provider stopped 0.05 s of every 0.5 s, relay budget off",)),
    "fuzz_morrpc": Smoke("bench_fuzz_morrpc", ("--frames", "200", "--processes", "1"), "fuzz_morrpc.json",
                         frozenset({"frames", "frames_by_origin", "distinct_by_origin", "outcomes", "crashes",
                                    "frames_per_s", "rss_kib_before", "rss_kib_after", "rss_growth_kib"}),
                         ("MOR-RPC fuzz, 200 hostile frames", "server RSS")),
    "morrpc": Smoke("bench_morrpc", ("--rounds", "1", "--seconds", "0.02"), "morrpc.json", frozenset({"per_second"}),
                    ("sign+encrypt per chunk", "verify+decrypt per chunk")),
    "rating": Smoke("bench_rating", ("--bids", "200", "--repeats", "1"), "bench_rating.json",
                    frozenset({"bids", "best_s"}), ("rank 200 bids",)),
    "backend": Smoke("bench_backend", ("--tokens", "500", "--repeats", "1"), "bench_backend.json",
                     frozenset({"rows"}), ("backend client vs raw aiohttp read",)),
    "chat_view": Smoke("bench_chat_view", ("--seconds", "0.5", "--messages", "50", "--repeats", "1"),
                       "bench_chat_view.json", frozenset({"stream_1000_tps", "open_5000_messages"}),
                       ("chat view, 1,000 tok/s stream (500 tokens)", "chat view, open a 50-message chat")),
    "dashboard_stall": Smoke("bench_dashboard_stall", ("--refreshes", "2", "--engine", "anvil"),
                             "bench_dashboard_stall.json", frozenset(),  # a list of rows, one per engine
                             ("dashboard + staking refresh ×2, anvil",)),
    "gui_combined": Smoke("bench_gui_combined", ("--seconds", "0.5"), "bench_gui_combined.json",
                          frozenset({"rows", "rate_tok_s"}),
                          ("whole GUI on anvil, view only", "router, provider in-process",
                           "router, provider own process")),
    "startup": Smoke("bench_startup", ("--repeats", "1", "--idle", "0.2"), "bench_startup.json",
                     frozenset({"modes"}), ("cold start to the HTTP API, headless",
                                            "cold start to the first window", "usable window (unlock)")),
}

# The order the smoke runs start in: the longest first, so the short ones fill the gaps at the end.
LONGEST_FIRST = ["startup", "gui_combined", "dashboard_stall", "concurrency", "concurrency_paused", "relay_e2e",
                 "fuzz_morrpc", "provider_relay", "chat_view", "morrpc", "backend", "rating"]


@dataclass(frozen=True)
class Outcome:
    returncode: int | None  # None: timed out
    seconds: float
    output: str

    def explain(self, name: str) -> str:
        how = "timed out" if self.returncode is None else f"exited {self.returncode}"
        return f"benchmark {name} {how} after {self.seconds:.0f} s; last output:\n{self.output[-3000:]}"


@dataclass(frozen=True)
class SmokeRun:
    folder: Path
    outcomes: dict[str, Outcome]
    wall_s: float
    real_results_before: dict[str, float]


def _anvil() -> str:
    anvil = find_anvil()
    if anvil is None:
        if os.environ.get("CI") == "true":
            pytest.fail("anvil not found on CI (ANVIL_PATH): the benchmark smoke runs cannot run")
        pytest.skip("anvil not installed (set ANVIL_PATH)")
    return str(anvil)


def _env(folder: Path, anvil: str) -> dict[str, str]:
    return {**os.environ, "BENCH_RESULTS_DIR": str(folder), "PYTHONPATH": str(ROOT), "ANVIL_PATH": anvil,
            "QT_QPA_PLATFORM": "offscreen"}


def _run(smoke: Smoke, env: dict[str, str]) -> Outcome:
    """Run one benchmark in its own process group, so a hung one is ended with the anvil and children it started."""
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", f"tests.bench.{smoke.module}", *smoke.args], cwd=ROOT, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)
    try:
        output, _ = proc.communicate(timeout=PER_BENCH_TIMEOUT_S)
        return Outcome(proc.returncode, time.monotonic() - start, output)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        return Outcome(None, time.monotonic() - start, output)


def _mtimes(folder: Path) -> dict[str, float]:
    return {p.name: p.stat().st_mtime for p in folder.glob("*")} if folder.is_dir() else {}


@pytest.fixture(scope="module")
def smoke_run(tmp_path_factory: pytest.TempPathFactory) -> SmokeRun:
    """All smoke runs, a few at a time, longest first; each one's exit code, time and output."""
    anvil = _anvil()
    folder = tmp_path_factory.mktemp("bench-results")
    before = _mtimes(REAL_RESULTS)
    env = _env(folder, anvil)
    start = time.monotonic()
    with ThreadPoolExecutor(PARALLEL) as pool:
        futures = {name: pool.submit(_run, SMOKES[name], env) for name in LONGEST_FIRST}
        outcomes = {name: future.result() for name, future in futures.items()}
    wall = time.monotonic() - start
    times = {name: round(o.seconds, 1) for name, o in outcomes.items()}
    print(f"\nbenchmark smoke runs: {wall:.0f} s wall, {PARALLEL} at a time; each (s): {times}")
    return SmokeRun(folder, outcomes, wall, before)


def test_every_benchmark_module_has_a_smoke_run() -> None:
    modules = {p.stem for p in BENCH.glob("bench_*.py")} - {"bench_env"}
    assert modules == {s.module for s in SMOKES.values()}


def test_every_smoke_run_is_scheduled_once() -> None:
    assert sorted(LONGEST_FIRST) == sorted(SMOKES)


@pytest.mark.parametrize("name", sorted(SMOKES))
def test_benchmark_finishes_at_smoke_size_and_writes_the_keys_run_all_reads(smoke_run: SmokeRun, name: str) -> None:
    outcome, smoke = smoke_run.outcomes[name], SMOKES[name]
    assert outcome.returncode == 0, outcome.explain(name)
    path = smoke_run.folder / smoke.result
    assert path.is_file(), f"{name} exited 0 but wrote no {smoke.result}\n{outcome.explain(name)}"
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, list):
        assert data, f"{smoke.result} holds no rows"
    else:
        assert smoke.keys <= data.keys(), f"{smoke.result} lacks {sorted(smoke.keys - data.keys())}"


@pytest.mark.parametrize("name", sorted(SMOKES))
def test_run_all_makes_rows_from_each_smoke_result(smoke_run: SmokeRun, name: str, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.bench import run_all

    smoke = SMOKES[name]
    source = smoke_run.folder / smoke.result
    if not source.is_file():
        pytest.fail(f"no {smoke.result}: {smoke_run.outcomes[name].explain(name)}")
    (tmp_path / smoke.result).write_bytes(source.read_bytes())  # this file alone: its rows are its own
    monkeypatch.setattr(run_all, "RESULTS", tmp_path)
    rows = [f"{r.what} | {r.result}" for r in run_all.rows(run_all.Results())]
    assert not [r for r in rows if "not readable" in r], rows
    for words in smoke.rows:
        assert any(words in r for r in rows), f"no row with {words!r} from {smoke.result}: {rows}"


def test_run_all_table_only_renders_every_smoke_result(smoke_run: SmokeRun) -> None:
    done = subprocess.run([sys.executable, str(BENCH / "run_all.py"), "--table-only"], cwd=ROOT,
                          env={**os.environ, "BENCH_RESULTS_DIR": str(smoke_run.folder), "PYTHONPATH": str(ROOT)},
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    table = [line for line in done.stdout.splitlines() if line.startswith("| ")]
    assert table[0] == "| measurement | result | goal | verdict |"
    assert not [line for line in table if "not readable" in line or "(stale)" in line], table
    for name, smoke in SMOKES.items():
        for words in smoke.rows:
            assert any(words in line for line in table), f"{name}: no row with {words!r}"
    assert (smoke_run.folder / "summary.md").read_text(encoding="utf-8").strip() == done.stdout.strip()


def test_smoke_runs_leave_the_real_results_untouched(smoke_run: SmokeRun) -> None:
    assert _mtimes(REAL_RESULTS) == smoke_run.real_results_before
