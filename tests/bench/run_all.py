"""Runs every benchmark in tests/bench (each a bounded subprocess) and prints ONE table with the machine and goals.

Run from the repo root: ``python3 tests/bench/run_all.py`` (``--only relay_e2e,startup`` to pick; ``--full`` adds
the 20-minute soak and fuzzes 100,000 frames instead of 10,000; ``--timeout`` s per benchmark overrides each one's
bound; ``--table-only`` re-prints the table from the JSON already in tests/bench/results/). Each benchmark writes
its own JSON into tests/bench/results/ (``$BENCH_RESULTS_DIR`` when set, for this script and the benchmarks alike);
this reads them back and writes results/summary.md too, and records the run (start, outcomes, load average
samples) in results/run_all.json so ``--table-only`` marks the same rows stale.

Every row has its goal and a verdict computed from the number (met / MISSED), or "—" / "reported" where there is
no goal. Numbers from a benchmark not refreshed by the last run (failed, timed out or not selected) are marked
"(stale)", never mixed in silently.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT))

from tests.bench.bench_env import machine, results_dir  # noqa: E402

RESULTS = results_dir()  # tests/bench/results/, or $BENCH_RESULTS_DIR (the benchmarks write there too)
MANIFEST = RESULTS / "run_all.json"

STALL_MS = 50.0  # the longest event-loop stall a user does not notice (GUI) / a router may add (provider)
SOAK_MIN_S = 600  # RSS flatness is judged on runs at least this long
FLAT_MB_PER_MIN = 0.1  # "flat" RSS: < 1 MB per 10 minutes after warm-up
FUZZ_FRAMES, FUZZ_FRAMES_FULL = 10_000, 100_000
PAUSES = "100/2000"  # the concurrency benchmark stops the provider 100 ms of every 2 s (as VM steal would)
ANVIL = ROOT / "packaging" / "npm" / "node_modules" / ".bin" / "anvil"


@dataclass(frozen=True)
class Row:
    what: str
    result: str
    goal: str = "—"
    ok: bool | None = None  # None: no goal, the number is reported

    @property
    def verdict(self) -> str:
        return "reported" if self.ok is None else "met" if self.ok else "MISSED"


@dataclass(frozen=True)
class Bench:
    """One benchmark run: ``python3 -m tests.bench.<module> <args>`` within ``timeout_s``."""

    name: str  # what --only selects
    module: str
    args: tuple[str, ...] = ()
    full_args: tuple[str, ...] | None = None  # with --full (None: the same as args)
    full_only: bool = False
    timeout_s: float = 900
    full_timeout_s: float | None = None
    env: dict[str, str] = field(default_factory=dict)

    def command(self, full: bool) -> list[str]:
        args = self.full_args if full and self.full_args is not None else self.args
        return [sys.executable, "-m", f"tests.bench.{self.module}", *args]

    def timeout(self, full: bool) -> float:
        return self.full_timeout_s if full and self.full_timeout_s is not None else self.timeout_s


_WITH_ANVIL = {"ANVIL_PATH": str(ANVIL)} if ANVIL.exists() else {}
BENCHES: list[Bench] = [
    Bench("relay_e2e", "bench_relay_e2e"),
    Bench("provider_relay", "bench_provider_relay"),
    Bench("concurrency", "bench_concurrency", timeout_s=600),
    Bench("concurrency_own_core", "bench_concurrency", ("--own-core",), timeout_s=600),
    # The relay budget side by side: the provider stopped now and then (VM steal), with the budget and without.
    Bench("concurrency_paused", "bench_concurrency", ("--pauses", PAUSES, "--seconds", "30"), timeout_s=600),
    Bench("concurrency_paused_no_relay_turns", "bench_concurrency",
          ("--pauses", PAUSES, "--seconds", "30", "--no-relay-turns"), timeout_s=600),
    Bench("concurrency_soak", "bench_concurrency", ("--minutes", "20"), full_only=True, timeout_s=1800),
    Bench("morrpc", "bench_morrpc", timeout_s=300),
    Bench("fuzz_morrpc", "bench_fuzz_morrpc", ("--frames", str(FUZZ_FRAMES)), ("--frames", str(FUZZ_FRAMES_FULL)),
          timeout_s=600, full_timeout_s=1800),
    Bench("rating", "bench_rating", timeout_s=300),
    Bench("backend", "bench_backend", timeout_s=300),
    Bench("chat_view", "bench_chat_view", timeout_s=300),
    Bench("dashboard_stall", "bench_dashboard_stall", env=_WITH_ANVIL, timeout_s=600),
    Bench("gui_combined", "bench_gui_combined", env=_WITH_ANVIL, timeout_s=600),
    Bench("startup", "bench_startup"),
]


def plan(only: str | None, full: bool) -> list[Bench]:
    """The benchmarks to run: the list above (``--full`` adds the long ones), plus any bench_*.py not in it."""
    listed = {b.module for b in BENCHES}
    unlisted = [Bench(p.stem.removeprefix("bench_"), p.stem) for p in sorted(HERE.glob("bench_*.py"))
                if p.stem not in listed and p.stem != "bench_env"]
    chosen = [b for b in BENCHES + unlisted if full or not b.full_only]
    if only:
        wanted = {n.strip().removeprefix("bench_") for n in only.split(",")}
        unknown = wanted - {b.name for b in BENCHES + unlisted}
        if unknown:
            raise SystemExit(f"unknown benchmark(s) {', '.join(sorted(unknown))}; known: "
                             + ", ".join(b.name for b in BENCHES + unlisted))
        chosen = [b for b in BENCHES + unlisted if b.name in wanted]
    return chosen


# ---- reading results -------------------------------------------------------------------------------------------


# Which benchmark writes each result file: a file is fresh only if that benchmark ran in the last run (and the file
# was written after the run began), so a file another process rewrote meanwhile is not passed off as this run's.
WRITTEN_BY = {"bench_relay_e2e.json": "relay_e2e", "bench_provider_relay.json": "provider_relay",
              "bench_concurrency.json": "concurrency", "bench_concurrency_own_core.json": "concurrency_own_core",
              "bench_concurrency_soak.json": "concurrency_soak", "morrpc.json": "morrpc",
              "bench_concurrency_paused.json": "concurrency_paused",
              "bench_concurrency_paused_no_relay_turns.json": "concurrency_paused_no_relay_turns",
              "fuzz_morrpc.json": "fuzz_morrpc", "bench_rating.json": "rating", "bench_backend.json": "backend",
              "bench_chat_view.json": "chat_view", "bench_dashboard_stall.json": "dashboard_stall",
              "bench_gui_combined.json": "gui_combined", "bench_startup.json": "startup"}


@dataclass(frozen=True)
class Results:
    """The result files as of a run: started at ``since`` (0: no run recorded), ``ran`` the benchmarks it ran."""

    since: float = 0.0
    ran: frozenset[str] | None = None  # None: no run recorded, every file counts as fresh

    def load(self, name: str) -> tuple[Any, str]:
        """The JSON in results/<name> (None if absent) and " (stale)" when the last run did not write it."""
        path = RESULTS / name
        if not path.exists():
            return None, ""
        data = json.loads(path.read_text(encoding="utf-8"))
        fresh = path.stat().st_mtime >= self.since and (self.ran is None or WRITTEN_BY.get(name, "") in self.ran)
        return data, "" if fresh else " (stale)"


def _load_note(data: dict[str, Any]) -> str:
    load = data.get("load_average")
    return f", load {load[0]:.1f}" if isinstance(load, list) and load else ""


def rss_slope_mb_per_min(data: dict[str, Any]) -> tuple[float, str]:
    """Least-squares slope of the provider's RSS after the first quarter of the run, and over which minutes.

    Falls back to the growth after warm-up over three quarters of the run when fewer than three samples remain."""
    samples = [(float(t), float(mb)) for t, mb in data.get("provider_rss_mb") or []]
    after = samples[len(samples) // 4:]
    if len(after) >= 3 and after[-1][0] > after[0][0]:
        mean_t = sum(t for t, _ in after) / len(after)
        mean_mb = sum(mb for _, mb in after) / len(after)
        slope = (sum((t - mean_t) * (mb - mean_mb) for t, mb in after)
                 / sum((t - mean_t) ** 2 for t, _ in after))
        span = f"min {after[0][0] / 60:.1f}–{after[-1][0] / 60:.1f}"
        return slope * 60, f"least squares over {span}, {len(after)} samples"
    minutes = 0.75 * float(data.get("seconds", 0)) / 60
    growth = float(data.get("rss_growth_after_warmup_mb", 0.0))
    return (growth / minutes if minutes else 0.0), "end minus first quarter (too few samples for a fit)"


def _relay(res: Results) -> list[Row]:
    data, stale = res.load("bench_relay_e2e.json")
    rows: list[Row] = []
    for r in (data or {}).get("rows", []):
        case = r["case"]
        if case.startswith("ttft"):
            rows.append(Row(f"relay added TTFT, client→consumer→provider→backend{stale}",
                            f"{r['added_ttft_ms']:.1f} ms ({r['direct_ttft_ms']:.1f} → {r['relay_ttft_ms']:.1f} ms)",
                            "≤ 5 ms", r["added_ttft_ms"] <= 5))
        elif case.startswith("paced"):
            rows.append(Row(f"relay throughput, {case}{stale}",
                            f"{r['ratio']:.2f}× ({r['relay_tps']:,.0f} vs {r['direct_tps']:,.0f} tok/s)",
                            "≥ 0.9×", r["ratio"] >= 0.9))
        else:
            rows.append(Row(f"relay ceiling, {case}{stale}",
                            f"{r['ratio']:.2f}× ({r['relay_tps']:,.0f} vs {r['direct_tps']:,.0f} tok/s)"))
    data, stale = res.load("bench_provider_relay.json")
    for r in (data or {}).get("rows", []):
        if r["case"] == "throughput":
            rows.append(Row(f"provider alone in-process, saturated ({r['path']}){stale}",
                            f"{r['ratio']:.2f}× ({r['relay_ips']:,.0f} vs {r['direct_ips']:,.0f} it/s)"))
    return rows


CONCURRENCY_RESULTS = ("bench_concurrency.json", "bench_concurrency_own_core.json", "bench_concurrency_soak.json",
                       "bench_concurrency_soak_own_core.json", "bench_concurrency_paused.json",
                       "bench_concurrency_paused_no_relay_turns.json")


def _stall_goal(ms: float, judged: bool) -> tuple[str, bool | None]:
    return (f"≤ {STALL_MS:.0f} ms", ms <= STALL_MS) if judged else ("—", None)


def _concurrency(res: Results) -> list[Row]:
    rows: list[Row] = []
    for name in CONCURRENCY_RESULTS:
        data, stale = res.load(name)
        if not data:
            continue
        x, d, lag = data["relayed"], data["direct"], data["provider_loop_lag"]
        own = ", provider on its own core" if data.get("provider_own_core") else ""
        paused = data.get("pauses")
        if paused:
            own += f", provider stopped {paused['pause_s']:g} s of every {paused['period_s']:g} s"
        own += "" if data.get("relay_turns", True) else ", relay budget off"
        label = (f"{data['sessions']} sessions × {data['rate_per_session']:g} tok/s, {data['seconds'] / 60:.1f} min"
                 f"{own}{_load_note(data)}{stale}")
        # A provider stopped on purpose stalls by the pause: those rows compare the catch-up, they are not judged.
        judged = not paused
        tokens = f"{x['tokens']:,} tokens in " if "tokens" in x else ""
        rows += [
            Row(f"{label}: errors", f"{x['errors']} in {x['prompts']} answers / {tokens}{x['chunks']:,} chunks",
                "0 errors at ≥ 100 sessions", x["errors"] == 0 and data["sessions"] >= 100),
            Row(f"{label}: token latency added by the router",
                f"p50 {data['added_chunk_latency_p50_ms']:.1f} ms, p99 {data['added_chunk_latency_p99_ms']:.1f} ms"),
            Row(f"{label}: TTFT relayed (direct)", f"p50 {x['ttft_p50_ms']:.0f} ms ({d['ttft_p50_ms']:.0f}), "
                f"p99 {x['ttft_p99_ms']:.0f} ms ({d['ttft_p99_ms']:.0f})"),
            Row(f"{label}: provider event-loop stall, wall clock",
                f"max {lag.get('max_ms', 0):.0f} ms, {lag.get('over_50ms', 0)} stalls > 50 ms; "
                f"GC max {max(lag.get('gc_max_ms', {'0': 0}).values()):.0f} ms",
                *_stall_goal(lag.get("max_ms", 0), judged)),
        ]
        if "cpu_max_ms" in lag:
            rows.append(Row(f"{label}: provider loop iterations by CPU time (stalls our code caused)",
                            f"max {lag['cpu_max_ms']:.0f} ms, {lag['cpu_over_50ms']} of {lag.get('iterations', 0):,}"
                            f" > 50 ms; the loop thread ran {lag['main_thread_cpu_s']:.0f} s, waited "
                            f"{lag['main_thread_runqueue_wait_s']:.0f} s for a CPU",
                            *_stall_goal(lag["cpu_max_ms"], judged)))
        slope, how = rss_slope_mb_per_min(data)
        trend = f"flat ({slope:+.2f} MB/min)" if slope < FLAT_MB_PER_MIN else f"grows {slope:.2f} MB/min"
        # A one-minute run is mostly warm-up (connections, buffers and allocator arenas reaching their working
        # size): only a soak can say whether the RSS levels off.
        soak = float(data.get("seconds", 0)) >= SOAK_MIN_S
        rows.append(Row(f"{label}: provider RSS after warm-up",
                        f"{trend} ({how}); {data['rss_start_mb']:.0f} → {data['rss_end_mb']:.0f} MB, "
                        f"{data['rss_growth_after_warmup_mb']:+.1f} after the first quarter; "
                        f"{data['provider_cpu_cores']:.2f} cores"
                        + ("" if soak else "; too short to judge a trend, the soak does"),
                        f"flat: < {FLAT_MB_PER_MIN:g} MB/min (1 MB per 10 min)" if soak else "—",
                        slope < FLAT_MB_PER_MIN if soak else None))
    return rows


def _fuzz(res: Results) -> list[Row]:
    data, stale = res.load("fuzz_morrpc.json")
    if not data:
        return []
    origins = data.get("frames_by_origin")
    if origins:
        distinct = data.get("distinct_by_origin", {})
        made = (f"{origins['hypothesis']:,} from Hypothesis ({distinct.get('hypothesis', 0):,} distinct), "
                f"{origins['mutation']:,} mutated ({distinct.get('mutation', 0):,} distinct)")
        valid = origins.get("valid", 0)
    else:  # the format before frames were counted by origin
        made = f"{data.get('seed_frames_from_hypothesis', 0):,} Hypothesis seeds, the rest mutated (origin not counted)"
        valid = data.get("outcomes", {}).get("valid ping ok", 0)
    kinds: dict[str, int] = {}
    for origin, counts in data.get("outcomes", {}).items():
        for kind, count in (counts.items() if isinstance(counts, dict) else [(origin, counts)]):
            kinds[kind] = kinds.get(kind, 0) + count
    answers = ", ".join(f"{kind} {count:,}" for kind, count in sorted(kinds.items()))
    label = f"MOR-RPC fuzz, {data['frames']:,} hostile frames ({made}) + {valid:,} valid pings{stale}"
    return [
        Row(f"{label}: crashes", f"{data['crashes']} crashes ({answers}); {data['frames_per_s']:,} frames/s",
            "0 crashes", data["crashes"] == 0),
        Row(f"{label}: server RSS", f"{data['rss_kib_before'] / 1024:.0f} → {data['rss_kib_after'] / 1024:.0f} MB "
            f"({data['rss_growth_kib'] / 1024:+.1f} MB)"),
    ]


def _codec_rating(res: Results) -> list[Row]:
    rows: list[Row] = []
    data, stale = res.load("morrpc.json")
    if data:
        per = data["per_second"]
        rows.append(Row(f"sign+encrypt per chunk, one core (provider){stale}",
                        f"{per['provider: encode+encrypt+sign+envelope']:,.0f} chunks/s"))
        rows.append(Row(f"verify+decrypt per chunk, one core (consumer){stale}",
                        f"{per['consumer: frame+parse+verify+decrypt']:,.0f} chunks/s"))
    data, stale = res.load("bench_rating.json")
    if data:
        rows.append(Row(f"rank {data['bids']:,} bids{stale}", f"{data['best_s'] * 1000:.0f} ms (best)"))
    data, stale = res.load("bench_backend.json")
    for r in (data or {}).get("rows", []):
        if r["reader"] == "OpenAIBackend" and r["framing"] == "lf":
            rows.append(Row(f"backend client vs raw aiohttp read{stale}",
                            f"{r['ratio']:.2f}× ({r['tokens_per_s']:,.0f} tok/s)"))
    return rows


def _frames(r: dict[str, Any]) -> str:
    return (f"max stall {r['longest_stall_ms']:.0f} ms, p99 frame gap {r['p99_gap_ms']:.0f} ms, "
            f"{r['frames']} frames shown, {r['frames_dropped']} dropped")


def _gui(res: Results) -> list[Row]:
    rows: list[Row] = []
    stall_goal = f"≤ {STALL_MS:.0f} ms stall"
    data, stale = res.load("bench_chat_view.json")
    if data and "stream_1000_tps" in data:
        s = data["stream_1000_tps"]
        rows.append(Row(f"chat view, 1,000 tok/s stream ({s['tokens']:,} tokens){stale}", _frames(s), stall_goal,
                        s["longest_stall_ms"] <= STALL_MS))
    if data and "open_5000_messages" in data:
        o = data["open_5000_messages"]
        rows.append(Row(f"chat view, open a {o['messages']:,}-message chat{stale}",
                        f"{o['best_s'] * 1000:.0f} ms best, {o['median_s'] * 1000:.0f} ms median "
                        f"({o['widgets_built']} widgets built)"))
    data, stale = res.load("bench_gui_combined.json")
    if isinstance(data, dict):
        old = {"stream_alone": "stream alone", "stream_dashboard_marketplace": "stream + dashboard + marketplace"}
        cases = data.get("rows") or [{**data[k], "case": case} for k, case in old.items() if k in data]
        for r in cases:
            path = f"{r['path']}, " if r.get("path") else ""
            extra = [f"{r['dashboard_refreshes']} dashboard refreshes, {r['marketplace_reloads']} marketplace reloads"]
            if "delivered_tok_s" in r:
                extra.append(f"{r['delivered_tok_s']:,.0f} tok/s delivered")
            if "longest_cpu_busy_gap_ms" in r:
                extra.append(f"longest CPU-busy gap {r['longest_cpu_busy_gap_ms']:.0f} ms")
            load = f", load {r['load_avg_1m']:.1f}" if "load_avg_1m" in r else ""
            rows.append(Row(f"whole GUI on anvil, {path}{data['rate_tok_s']:,} tok/s {r['case']}{load}{stale}",
                            f"{_frames(r)}; " + "; ".join(extra), stall_goal, r["longest_stall_ms"] <= STALL_MS))
    data, stale = res.load("bench_dashboard_stall.json")
    for r in data if isinstance(data, list) else []:
        rows.append(Row(f"dashboard + staking refresh ×{r['refreshes']}, {r['engine']}{stale}",
                        f"max stall {r['max_stall_ms']:.0f} ms (p99 {r['p99_stall_ms']:.0f}, idle max "
                        f"{r['idle_max_stall_ms']:.0f}); {r['refresh_ms']:.0f} ms per refresh", stall_goal,
                        r["max_stall_ms"] <= STALL_MS))
    return rows


def _startup(res: Results) -> list[Row]:
    data, stale = res.load("bench_startup.json")
    rows: list[Row] = []
    for m in (data or {}).get("modes", []):
        mode = m["mode"]
        if mode.startswith("desktop"):
            window = m.get("next_window_s", m["next_ready_s"])
            rows.append(Row(f"cold start to the first window, {mode}{stale}",
                            f"{window:.2f} s (first launch {m.get('first_window_s', m['first_ready_s']):.2f} s)",
                            "≤ 2 s", window <= 2))
            for key, first, view in (("next_usable_s", "first_usable_s", "next_usable_view"),
                                     ("wallet_usable_s", None, "wallet_usable_view")):
                if m.get(key) is not None:
                    extra = f" (first launch {m[first]:.2f} s)" if first and m.get(first) is not None else ""
                    rows.append(Row(f"cold start to a usable window ({m.get(view) or 'view'}), {mode}{stale}",
                                    f"{m[key]:.2f} s{extra}", "≤ 2 s", m[key] <= 2))
        else:
            rows.append(Row(f"cold start to the HTTP API, {mode}{stale}",
                            f"{m['next_ready_s']:.2f} s (first launch with devnet deploy {m['first_ready_s']:.2f} s)"))
        rows.append(Row(f"idle RSS, {mode}{stale}", f"{m['idle_rss_mb']:.0f} MB ({_children(m)})",
                        "≤ 250 MB", m["idle_rss_mb"] <= 250))
    if data and data.get("dist"):
        d = data["dist"]
        rows.append(Row(f"frozen app size (dist/){stale}",
                        f"{d['folder_mb']:.0f} MB folder, executable {d['executable_mb']:.1f} MB"))
    return rows


def _children(mode: dict[str, Any]) -> str:
    """The devnet's own processes beside the app, by role (older results only have their sum)."""
    by_role = mode.get("children_rss_mb")
    if not by_role:
        return f"+ devnet processes {mode['devnet_rss_mb']:.0f} MB"
    return "+ " + ", ".join(f"{role} {mb:.0f} MB" for role, mb in by_role.items() if mb)


SECTIONS: list[Callable[[Results], list[Row]]] = [_relay, _concurrency, _fuzz, _codec_rating, _gui, _startup]


# ---- the table ---------------------------------------------------------------------------------------------------


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def rows(res: Results) -> list[Row]:
    """Every row of every section; a section whose JSON has an unexpected shape says so in one row."""
    out: list[Row] = []
    for section in SECTIONS:
        try:
            out += section(res)
        except (KeyError, TypeError, ValueError, IndexError) as e:  # a result file from another version
            out.append(Row(f"{section.__name__.strip('_')}: result file not readable", f"{type(e).__name__}: {e}"))
    return out


def _load_summary(samples: Sequence[float]) -> str:
    if not samples:
        return ""
    return (f"; load average (1 min) during the run {min(samples):.1f}–{max(samples):.1f}, "
            f"mean {sum(samples) / len(samples):.1f} ({len(samples)} samples)")


def table(manifest: dict[str, Any]) -> str:
    """The markdown table for the run recorded in ``manifest`` (empty: no run recorded, nothing marked stale)."""
    m = machine()
    since = float(manifest.get("started", 0.0))
    outcomes: dict[str, str] = manifest.get("outcomes", {})
    res = Results(since, frozenset(outcomes) if manifest else None)
    when = datetime.datetime.fromtimestamp(since) if since else datetime.datetime.now()
    during = _load_summary(manifest.get("load_1min", []))
    lines = [f"Benchmarks {when.strftime('%Y-%m-%d %H:%M')} — {m['cpu']}, {m['cores']} cores, {m['ram_gb']:.0f} GB "
             f"RAM, Python {m['python']}, {m['os']}{during}; load average now {os.getloadavg()[0]:.1f}",
             "", "| measurement | result | goal | verdict |", "|---|---|---|---|"]
    lines += [f"| {_cell(r.what)} | {_cell(r.result)} | {_cell(r.goal)} | {r.verdict} |" for r in rows(res)]
    failed = {n: o for n, o in outcomes.items() if o != "ok"}
    if failed:
        lines += ["", "Did not finish cleanly in this run (rows from older results are marked stale): "
                  + "; ".join(f"{n} {o}" for n, o in failed.items())]
    return "\n".join(lines)


# ---- running -----------------------------------------------------------------------------------------------------


class LoadSampler:
    """Samples the 1-minute load average every ``every`` s in a thread: how busy the machine was during the run."""

    def __init__(self, every: float = 10.0) -> None:
        self.every = every
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while True:
            self.samples.append(round(os.getloadavg()[0], 2))
            if self._stop.wait(self.every):
                return

    def __enter__(self) -> LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()


def run(benches: list[Bench], full: bool, timeout: float | None) -> dict[str, str]:
    """Run each benchmark module; returns name → outcome."""
    outcomes = {}
    for bench in benches:
        limit = timeout or bench.timeout(full)
        command = bench.command(full)
        print(f"== {bench.name}: {' '.join(command[1:])} (at most {limit:.0f} s)", flush=True)
        start = time.monotonic()
        try:
            done = subprocess.run(command, cwd=ROOT, timeout=limit, check=False,
                                  env={**bench.env, **os.environ, "PYTHONPATH": str(ROOT)})
            outcomes[bench.name] = "ok" if done.returncode == 0 else f"exited {done.returncode}"
        except subprocess.TimeoutExpired:
            outcomes[bench.name] = f"timed out after {limit:.0f} s"
        print(f"== {bench.name}: {outcomes[bench.name]} in {time.monotonic() - start:.0f} s", flush=True)
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated names (e.g. relay_e2e,startup,concurrency_own_core)")
    parser.add_argument("--full", action="store_true",
                        help=f"also the 20-minute soak; fuzz {FUZZ_FRAMES_FULL:,} frames (default {FUZZ_FRAMES:,})")
    parser.add_argument("--timeout", type=float, help="seconds per benchmark (default: each benchmark's own bound)")
    parser.add_argument("--table-only", action="store_true",
                        help="print the table from existing results (stale marks as of the last run)")
    args = parser.parse_args()
    RESULTS.mkdir(exist_ok=True)
    if args.table_only:
        manifest = json.loads(MANIFEST.read_text(encoding="utf-8")) if MANIFEST.exists() else {}
    else:
        benches = plan(args.only, args.full)
        started = time.time()
        with LoadSampler() as load:
            outcomes = run(benches, args.full, args.timeout)
        manifest = {"started": started, "finished": time.time(), "full": args.full,
                    "commands": {b.name: " ".join(b.command(args.full)[1:]) for b in benches},
                    "outcomes": outcomes, "load_1min": load.samples}
        MANIFEST.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    text = table(manifest)
    print("\n" + text)
    (RESULTS / "summary.md").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
