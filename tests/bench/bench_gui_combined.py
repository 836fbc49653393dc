"""Benchmark: the whole GUI busy at once — a 1,000 tokens/s chat stream, the dashboard refreshing and the marketplace
reloading — on a real anvil devnet with the demo marketplace (nothing asserted).

Two stream paths, side by side in one run, each alone and with the dashboard refreshing every 0.5 s and the
marketplace reloading every 1 s (its bid table for the demo model shown, so a reload also ranks and pings bids):

- "view only": the chat pane fed by the in-process ``PacedBackend`` (no network, no crypto): the view's own cost.
- "consumer router": the chat pane exactly as the app wires it (``build_part2_panes``: ``RoutedBackend(
  ConsumerChatBackend(LiveConsumer))``) on a real session opened on chain with the demo provider "swift". The demo
  providers run in this process, as in the app, but their "local model" is ``paced_openai`` (its own process,
  same tokens at the same rate), so per chunk the GUI loop does the provider's read + sign + encrypt and the
  consumer's MOR-RPC verify + ECIES decrypt, the chat's periodic writes and, at the end, the receipt.

Per row: the longest event-loop stall (a 60 Hz frame timer's worst gap beyond its period), the p99 frame gap, the
frames dropped, time to first token and the tokens/s the pane actually received (first to last text delta), with
the load average. ``--profile DIR`` runs ``py-spy record --nonblocking -f raw`` on this process during the router
rows and writes the folded stacks there (the top functions by samples are printed).

Run from the repo root: ANVIL_PATH=packaging/npm/node_modules/.bin/anvil python3 -m tests.bench.bench_gui_combined
(offscreen; writes tests/bench/results/bench_gui_combined.json)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from pathlib import Path
from typing import Any, cast

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
from PySide6.QtWidgets import QApplication

from app.bootstrap.services import Services
from app.config.node_config import load_node_config
from app.config.settings import load_settings
from app.devnet.demo import DemoMarketplace
from app.events import ServiceState
from app.gui.bridge import Bridge
from app.gui.chat.pane import ChatPane
from app.gui.chat.stream import ChatBackend, ChatRequest, StreamItem
from app.gui.dashboard import DashboardPane
from app.gui.gc_guard import MainThreadGc
from app.gui.marketplace.pane import MarketplacePane
from app.gui.part2_wiring import Part2
from app.gui.refcount_guard import pin_singletons
from app.gui.wallet_model import WalletModel
from app.wallet.secret import WalletSecret
from tests.bench.bench_chat_view import FrameProbe, PacedBackend
from tests.bench.bench_dashboard_stall import _prepare
from tests.bench.bench_env import cpu_seconds, machine, sched_seconds, write_result
from tests.bench.paced_openai import PacedModelServer, answer_text
from tests.gui.support import PASSWORD, wallet_manager

RATE = 1000
SECONDS = 8.0
TOKENS = int(RATE * SECONDS)
DASHBOARD_EVERY_S = 0.5
MARKETPLACE_EVERY_S = 1.0
PROVIDER = "swift"  # a steady demo provider (not the flaky one, which cuts every 2nd answer by design)


class CpuFrameProbe(FrameProbe):
    """The 60 Hz frame probe, plus the GUI thread's CPU time at every tick.

    On a shared machine a long wall-clock gap is either our code holding the loop or the OS not running us; the
    CPU the GUI thread used between two ticks is only the former (the "CPU-busy gap"), and the thread's run-queue
    wait (schedstat) over the case says how much of the latter there was.
    """

    def __init__(self) -> None:
        super().__init__()
        self.cpu: list[float] = []
        self.timer.timeout.connect(lambda: self.cpu.append(time.thread_time()))
        self._began = (0.0, 0.0, 0.0, (0.0, 0.0))

    def start(self) -> None:
        self._began = (time.perf_counter(), cpu_seconds(), time.thread_time(), sched_seconds())
        self.timer.start()

    def stop(self) -> dict[str, Any]:
        self.timer.stop()
        wall, process_cpu, thread_cpu, (_, waited) = self._began
        elapsed = time.perf_counter() - wall
        busy = [(b - a) * 1000 for a, b in zip(self.cpu, self.cpu[1:], strict=False)]
        return {**self.result(), "longest_cpu_busy_gap_ms": max(busy, default=0.0),
                "cpu_busy_gaps_over_50ms": sum(1 for b in busy if b > 50),
                "gui_thread_cores": (time.thread_time() - thread_cpu) / elapsed,
                "process_cores": (cpu_seconds() - process_cpu) / elapsed,
                "gui_thread_runqueue_wait_s": sched_seconds()[1] - waited}


class DeliveryMeter:
    """Wraps the pane's backend: when the first and last text reached the pane, and the text itself."""

    def __init__(self, inner: ChatBackend) -> None:
        self.inner = inner
        self.sent = self.first = self.last = 0.0
        self.parts: list[str] = []

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamItem]:
        self.sent, self.first, self.parts = time.perf_counter(), 0.0, []
        async with aclosing(self.inner.stream(request)) as items:  # type: ignore[type-var]
            async for item in items:
                if isinstance(item, str):
                    self.last = time.perf_counter()
                    self.first = self.first or self.last
                    self.parts.append(item)
                yield item

    def result(self) -> dict[str, Any]:
        text = "".join(self.parts)
        spread = self.last - self.first
        return {"ttft_ms": (self.first - self.sent) * 1000 if self.first else None, "deltas": len(self.parts),
                "complete": text == answer_text(TOKENS), "chars": len(text),
                "delivered_tok_s": TOKENS / spread if text == answer_text(TOKENS) and spread > 0 else None}


async def _every(interval: float, action: Callable[[], Awaitable[object]], count: list[int]) -> None:
    while True:
        await action()
        count[0] += 1
        await asyncio.sleep(interval)


class Profiler:
    """``py-spy record --nonblocking`` on this process (it samples without pausing us) into folded stacks."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self, name: str) -> None:
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        spy = shutil.which("py-spy")
        if spy is None:
            raise RuntimeError("--profile needs py-spy on PATH (pip install py-spy)")
        self._proc = subprocess.Popen([spy, "record", "--nonblocking", "-r", "250", "-f", "raw", "-p",
                                       str(os.getpid()), "-o", str(self.folder / f"{name}.txt")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(0.5)  # py-spy attaches before the case starts (setup, not a wait for app state)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.send_signal(signal.SIGINT)
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


async def _stream(chat: ChatPane, meter: DeliveryMeter, *, busy: bool, model: WalletModel,
                  marketplace: MarketplacePane) -> dict[str, Any]:
    await chat.new_chat()
    probe = CpuFrameProbe()
    background: list[asyncio.Task[None]] = []
    dashboards, markets = [0], [0]
    if busy:
        background = [asyncio.ensure_future(_every(DASHBOARD_EVERY_S, model.refresh, dashboards)),
                      asyncio.ensure_future(_every(MARKETPLACE_EVERY_S, marketplace.refresh, markets))]
    load = os.getloadavg()[0]
    probe.start()
    await chat.send("Write a long answer")
    frames = probe.stop()
    for task in background:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return {**frames, **meter.result(), "dashboard_refreshes": dashboards[0],
            "marketplace_reloads": markets[0], "load_avg_1m": round(load, 2)}


async def _paced_demo(services: Services, data_dir: Path) -> DemoMarketplace:
    """The demo marketplace as the app starts it, with the paced backend in place of the local model."""
    assert services.devnet is not None
    demo = DemoMarketplace(data_dir, model_server=PacedModelServer(RATE, TOKENS, data_dir / "paced-backend.log"))
    services.demo = demo  # Services.stop stops it, before the devnet
    await demo.start(services.devnet)
    if not demo.model_available or not demo.providers:
        raise RuntimeError("the demo marketplace did not start with the paced backend")
    return demo


def _router_running(services: Services) -> asyncio.Event:
    """Set once the bus says the router (consumer side) runs, as the status bar would show; subscribe before unlock."""
    running = asyncio.Event()

    def seen(event: ServiceState) -> None:
        if event.service == "router" and event.state == "running":
            running.set()

    services.bus.subscribe(ServiceState, seen)
    return running


async def measure(profile: Path | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-gui-") as tmp:
        data_dir = Path(tmp)
        settings = load_settings([], environ={"MOR_DATA_DIR": tmp}, dotenv_path=data_dir / "absent.env")
        services = Services(load_node_config(settings), data_dir, devnet_engine="anvil",
                            wallet=wallet_manager(data_dir), demo=False)
        await services.start()
        try:
            demo = await _paced_demo(services, data_dir)
            router_running = _router_running(services)
            await services.wallet.setup(PASSWORD, WalletSecret.from_private_key("0x" + os.urandom(32).hex()))
            await _prepare(services)
            async with asyncio.timeout(30):
                await router_running.wait()
            model = WalletModel(services)
            dashboard = DashboardPane(services, model)
            part2 = Part2()
            part2.panes(services, cast(Bridge, None))
            assert part2.built is not None and services.storage is not None and demo.model_id is not None
            marketplace, routed = part2.built.marketplace, part2.built.chat
            view_meter = DeliveryMeter(PacedBackend(RATE, SECONDS))
            view_only = ChatPane(services.storage, view_meter, local_label="bench")
            router_meter = DeliveryMeter(routed.backend)
            routed.backend = router_meter
            for pane in (dashboard, marketplace, view_only, routed):
                pane.resize(1200, 800)
                pane.show()
            await model.refresh()
            await part2.built.refresh()
            await marketplace.show_model("0x" + demo.model_id.hex())
            swift = next(p for p in demo.providers if p.spec.name == PROVIDER)
            assert services.consumer is not None
            session = await services.consumer.open_session(bid_id="0x" + swift.bid_id.hex(), failover=False)
            await routed.add_session(session)
            await view_only.refresh()
            rows: list[dict[str, Any]] = []
            for path, chat, meter in (("view only", view_only, view_meter),
                                      ("consumer router", routed, router_meter)):
                for busy in (False, True):
                    profiler = Profiler(profile if path == "consumer router" else None)
                    profiler.start(f"{'busy' if busy else 'alone'}")
                    try:
                        row = await _stream(chat, meter, busy=busy, model=model, marketplace=marketplace)
                    finally:
                        profiler.stop()
                    case = "stream + dashboard 0.5 s + marketplace 1 s" if busy else "stream alone"
                    rows.append({"path": path, "case": case, "busy": busy, **row})
            return {"rate_tok_s": RATE, "tokens": TOKENS, "seconds": SECONDS, "provider": PROVIDER,
                    "session": session.id, "rows": rows}
        finally:
            await services.stop()


def top_functions(folded: Path, count: int = 12) -> list[tuple[str, float]]:
    """The functions seen in the most samples of a py-spy raw (folded) profile, as (function, share of samples)."""
    seen: Counter[str] = Counter()
    total = 0
    for line in folded.read_text(encoding="utf-8").splitlines():
        stack, _, samples = line.rpartition(" ")
        if not samples.isdigit():
            continue
        total += int(samples)
        for frame in set(stack.split(";")):
            seen[frame] += int(samples)
    return [(frame, n / total) for frame, n in seen.most_common(count)] if total else []


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", type=Path, help="folder for py-spy profiles of the router rows")
    args = parser.parse_args()
    pin_singletons()
    app = QApplication.instance() or QApplication([])
    gc_guard = MainThreadGc(app)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        result = loop.run_until_complete(measure(args.profile))
    gc_guard.stop()
    result["machine"] = machine()
    print(f"{'path':16} {'case':44} {'stall ms':>9} {'CPU-busy':>9} {'p99 gap':>8} {'dropped':>8} {'TTFT ms':>8} "
          f"{'tok/s':>7} {'dash/mkt':>9} {'cores':>6} {'rq wait':>8} {'load':>5}")
    for r in result["rows"]:
        tps = f"{r['delivered_tok_s']:.0f}" if r["delivered_tok_s"] else "cut"
        ttft = f"{r['ttft_ms']:.0f}" if r["ttft_ms"] is not None else "-"
        print(f"{r['path']:16} {r['case']:44} {r['longest_stall_ms']:9.1f} {r['longest_cpu_busy_gap_ms']:9.1f} "
              f"{r['p99_gap_ms']:8.1f} {r['frames_dropped']:8d} {ttft:>8} {tps:>7} "
              f"{r['dashboard_refreshes']:>4}/{r['marketplace_reloads']:<4} {r['process_cores']:6.2f} "
              f"{r['gui_thread_runqueue_wait_s']:7.1f}s {r['load_avg_1m']:5.1f}")
    if args.profile is not None:
        for name in ("alone", "busy"):
            path = args.profile / f"{name}.txt"
            if path.exists():
                print(f"py-spy, router {name}: functions in the most samples")
                for frame, share in top_functions(path):
                    print(f"  {share:6.1%}  {frame[:150]}")
    print({"written": str(write_result("bench_gui_combined", result))})


if __name__ == "__main__":
    main()
