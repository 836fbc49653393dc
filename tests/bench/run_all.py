"""Runs every benchmark in tests/bench (each a bounded subprocess) and prints ONE table with the machine and targets.

Run from the repo root: ``python3 tests/bench/run_all.py`` (``--only relay_e2e,startup`` to pick; ``--timeout`` s
per benchmark; ``--table-only`` re-prints the table from the JSON already in tests/bench/results/). Each
benchmark writes its own JSON into tests/bench/results/; this reads them back and writes results/summary.md too.
Numbers from a benchmark that failed or timed out in this run are marked "(stale)" or left out, never mixed in
silently.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
RESULTS = HERE / "results"
sys.path.insert(0, str(ROOT))

from tests.bench.bench_env import machine  # noqa: E402

Row = tuple[str, str, str]  # (what, measured, target / verdict)


def _load(name: str, since: float) -> tuple[dict[str, Any] | None, str]:
    path = RESULTS / name
    if not path.exists():
        return None, ""
    data = json.loads(path.read_text(encoding="utf-8"))
    return data, "" if path.stat().st_mtime >= since else " (stale)"


def _verdict(ok: bool, target: str) -> str:
    return f"{'met' if ok else 'MISSED'} ({target})"


def _relay(since: float) -> list[Row]:
    data, stale = _load("bench_relay_e2e.json", since)
    rows: list[Row] = []
    for r in (data or {}).get("rows", []):
        case = r["case"]
        if case.startswith("ttft"):
            rows.append((f"relay added TTFT, client→consumer→provider→backend{stale}",
                         f"{r['added_ttft_ms']:.1f} ms ({r['direct_ttft_ms']:.1f} → {r['relay_ttft_ms']:.1f} ms)",
                         _verdict(r["added_ttft_ms"] <= 5, "≤ 5 ms")))
        else:
            target = _verdict(r["ratio"] >= 0.9, "≥ 0.9×") if case.startswith("paced") else "ceiling, no target"
            rows.append((f"relay throughput, {case}{stale}",
                         f"{r['ratio']:.2f}× ({r['relay_tps']:,.0f} vs {r['direct_tps']:,.0f} tok/s)", target))
    data, stale = _load("bench_provider_relay.json", since)
    for r in (data or {}).get("rows", []):
        if r["case"] == "throughput":
            rows.append((f"provider alone in-process, saturated ({r['path']}){stale}",
                         f"{r['ratio']:.2f}× ({r['relay_ips']:,.0f} vs {r['direct_ips']:,.0f} it/s)",
                         "ceiling, no target"))
    return rows


def _concurrency(since: float) -> list[Row]:
    rows: list[Row] = []
    for name in ("bench_concurrency.json", "bench_concurrency_soak.json"):
        data, stale = _load(name, since)
        if not data:
            continue
        x, lag = data["relayed"], data["provider_loop_lag"]
        label = (f"{data['sessions']} sessions × {data['rate_per_session']:g} tok/s, "
                 f"{data['seconds'] / 60:.1f} min{stale}")
        d = data["direct"]
        tokens = f"{x['tokens']:,} tokens in " if "tokens" in x else ""
        rows += [
            (f"{label}: errors", f"{x['errors']} in {x['prompts']} answers / {tokens}{x['chunks']:,} chunks",
             _verdict(x["errors"] == 0 and data["sessions"] >= 100, "0 errors at ≥ 100 sessions")),
            (f"{label}: token latency added by the router",
             f"p50 {data['added_chunk_latency_p50_ms']:.1f} ms, p99 {data['added_chunk_latency_p99_ms']:.1f} ms",
             "no target (reported)"),
            (f"{label}: TTFT relayed (direct)", f"p50 {x['ttft_p50_ms']:.0f} ms ({d['ttft_p50_ms']:.0f}), "
             f"p99 {x['ttft_p99_ms']:.0f} ms ({d['ttft_p99_ms']:.0f})", "no target (reported)"),
            (f"{label}: provider event-loop stall, wall clock", f"max {lag.get('max_ms', 0):.0f} ms, "
             f"{lag.get('over_50ms', 0)} stalls > 50 ms; GC max {max(lag.get('gc_max_ms', {'0': 0}).values()):.0f} ms",
             _verdict(lag.get("max_ms", 0) <= 50, "≤ 50 ms")),
        ]
        if "cpu_max_ms" in lag:
            rows.append((f"{label}: provider loop iterations by CPU time (stalls our code caused)",
                         f"max {lag['cpu_max_ms']:.0f} ms, {lag['cpu_over_50ms']} of {lag.get('iterations', 0):,}"
                         " > 50 ms; the loop thread ran "
                         f"{lag['main_thread_cpu_s']:.0f} s, waited {lag['main_thread_runqueue_wait_s']:.0f} s "
                         "for a CPU",
                         _verdict(lag["cpu_max_ms"] <= 50, "≤ 50 ms")))
        rows += [
            (f"{label}: provider RSS start → end", f"{data['rss_start_mb']:.0f} → {data['rss_end_mb']:.0f} MB "
             f"({data['rss_growth_after_warmup_mb']:+.1f} after warm-up), {data['provider_cpu_cores']:.2f} cores",
             "flat"),
        ]
    return rows


def _codec_rating(since: float) -> list[Row]:
    rows: list[Row] = []
    data, stale = _load("morrpc.json", since)
    if data:
        per = data["per_second"]
        rows.append((f"sign+encrypt per chunk, one core (provider){stale}",
                     f"{per['provider: encode+encrypt+sign+envelope']:,.0f} chunks/s", "no target"))
        rows.append((f"verify+decrypt per chunk, one core (consumer){stale}",
                     f"{per['consumer: frame+parse+verify+decrypt']:,.0f} chunks/s", "no target"))
    data, stale = _load("bench_rating.json", since)
    if data:
        rows.append((f"rank {data['bids']:,} bids{stale}", f"{data['best_s'] * 1000:.0f} ms (best)", "no target"))
    data, stale = _load("bench_backend.json", since)
    for r in (data or {}).get("rows", []):
        if r["reader"] == "OpenAIBackend" and r["framing"] == "lf":
            rows.append((f"backend client vs raw aiohttp read{stale}", f"{r['ratio']:.2f}× "
                         f"({r['tokens_per_s']:,.0f} tok/s)", "no target"))
    return rows


def _chat_view(since: float) -> list[Row]:
    """Any GUI benchmark JSON with a loop-stall figure (written by the chat view's owner)."""
    rows: list[Row] = []
    for path in sorted(RESULTS.glob("*chat*.json")):
        data, stale = _load(path.name, since)
        stall = next((data[k] for k in ("max_stall_ms", "stall_max_ms", "max_loop_stall_ms") if data and k in data),
                     None)
        if stall is not None:
            rows.append((f"chat view at 1,000 tok/s, loop stall{stale}", f"max {stall:.0f} ms",
                         _verdict(stall <= 50, "≤ 50 ms")))
    return rows


def _startup(since: float) -> list[Row]:
    data, stale = _load("bench_startup.json", since)
    rows: list[Row] = []
    for m in (data or {}).get("modes", []):
        usable = m["mode"].startswith("desktop")
        rows.append((f"cold start, {m['mode']}{stale}", f"{m['next_ready_s']:.2f} s "
                     f"(first launch with devnet deploy {m['first_ready_s']:.2f} s)",
                     _verdict(m["next_ready_s"] <= 2, "≤ 2 s") if usable else "no target"))
        rows.append((f"idle RSS, {m['mode']}{stale}",
                     f"{m['idle_rss_mb']:.0f} MB (+ anvil {m['devnet_rss_mb']:.0f} MB)",
                     _verdict(m["idle_rss_mb"] <= 250, "≤ 250 MB")))
    if data and data.get("dist"):
        d = data["dist"]
        rows.append((f"frozen app size (dist/){stale}", f"{d['folder_mb']:.0f} MB folder, "
                     f"executable {d['executable_mb']:.1f} MB", "no target"))
    return rows


SECTIONS: list[Callable[[float], list[Row]]] = [_relay, _concurrency, _codec_rating, _chat_view, _startup]


def table(since: float) -> str:
    m = machine()
    load = os.getloadavg()
    lines = [f"Benchmarks {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')} — {m['cpu']}, {m['cores']} cores, "
             f"{m['ram_gb']:.0f} GB RAM, Python {m['python']}, {m['os']}; load average now {load[0]:.1f}",
             "", "| measurement | result | target |", "|---|---|---|"]
    for section in SECTIONS:
        lines += [f"| {what} | {measured} | {target} |" for what, measured, target in section(since)]
    return "\n".join(lines)


def run(names: list[str], timeout: float) -> dict[str, str]:
    """Run each benchmark module; returns name → outcome."""
    outcomes = {}
    for name in names:
        print(f"== {name}", flush=True)
        start = time.monotonic()
        try:
            done = subprocess.run([sys.executable, "-m", f"tests.bench.{name}"], cwd=ROOT, timeout=timeout,
                                  env={**os.environ, "PYTHONPATH": str(ROOT)}, check=False)
            outcomes[name] = "ok" if done.returncode == 0 else f"failed (exit {done.returncode})"
        except subprocess.TimeoutExpired:
            outcomes[name] = f"timed out after {timeout:.0f} s"
        print(f"== {name}: {outcomes[name]} in {time.monotonic() - start:.0f} s", flush=True)
    return outcomes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", help="comma-separated names without the bench_ prefix (e.g. relay_e2e,startup)")
    parser.add_argument("--timeout", type=float, default=900, help="seconds per benchmark (default 900)")
    parser.add_argument("--table-only", action="store_true", help="print the table from existing results")
    args = parser.parse_args()
    since = 0.0
    outcomes: dict[str, str] = {}
    if not args.table_only:
        names = sorted(p.stem for p in HERE.glob("bench_*.py") if p.stem != "bench_env")
        if args.only:
            wanted = {f"bench_{n.strip().removeprefix('bench_')}" for n in args.only.split(",")}
            names = [n for n in names if n in wanted]
        since = time.time()
        outcomes = run(names, args.timeout)
    text = table(since)
    failed = {n: o for n, o in outcomes.items() if o != "ok"}
    if failed:
        text += "\n\nNot measured in this run: " + "; ".join(f"{n} {o}" for n, o in failed.items())
    print("\n" + text)
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "summary.md").write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
