"""Benchmark: the whole GUI busy at once — a 1,000 tokens/s chat stream, the dashboard refreshing and the marketplace
reloading — on a real anvil devnet with the demo marketplace (nothing asserted).

Three stream paths, in one run, each alone and with the dashboard refreshing every 0.5 s and the marketplace
reloading every 1 s (its bid table for the demo model shown, so a reload also ranks and pings the bids):

- "view only": the chat pane fed by the in-process ``PacedBackend`` (no network, no crypto): the view's own cost.
- "router, provider in-process": the chat pane exactly as the app wires it (``build_part2_panes``:
  ``RoutedBackend(ConsumerChatBackend(LiveConsumer))``) on a real session opened on chain with the demo provider
  "swift". The demo providers run in this process, as in the app, but their "local model" is ``paced_openai`` (its
  own process, the same tokens at the same rate), so per chunk the GUI loop does the provider's backend read, sign
  and encrypt and the consumer's MOR-RPC verify, ECDH and decrypt, the chat's periodic writes and the receipt.
- "router, provider own process": the same, after swift's node is moved into ``provider_proc`` (same key, port
  and ProviderController): the GUI loop does the consumer side only, as with a real remote provider.

Per row: the longest event-loop stall (a 60 Hz frame timer's worst gap beyond its period), the p99 frame gap, the
frames dropped, time to first token, the tokens/s the pane actually received (first to last text delta), the
longest "CPU-busy gap" (GUI-thread CPU time between two frame ticks: the part of a stall our code caused, whatever
the machine's load), the GUI thread's CPU per token and run-queue wait, the load average, and the asyncio
callbacks that used over 20 ms of CPU. ``--profile DIR`` runs ``py-spy record --nonblocking --threads`` on this
process during the router rows and sorts the GUI thread's samples by part (provider, consumer crypto, chat view,
marketplace, dashboard, Qt's native code, …).

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
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
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
from app.heap import freeze_startup_heap
from app.wallet.secret import WalletSecret
from tests.bench.bench_chat_view import FrameProbe, PacedBackend
from tests.bench.bench_dashboard_stall import _prepare
from tests.bench.bench_env import Child, cpu_seconds, machine, sched_seconds, spawn, write_result
from tests.bench.paced_openai import PacedModelServer, answer_text
from tests.gui.support import PASSWORD, wallet_manager

RATE = 1000
SECONDS = 8.0
TOKENS = int(RATE * SECONDS)
DASHBOARD_EVERY_S = 0.5
MARKETPLACE_EVERY_S = 1.0
PROVIDER = "swift"  # a steady demo provider (not the flaky one, which cuts every 2nd answer by design)
IN_PROCESS = "router, provider in-process"  # as the demo app runs: provider and consumer share the GUI loop
OWN_PROCESS = "router, provider own process"  # as with a real remote provider: the GUI loop does the consumer side
SLOW_CALLBACK_MS = 20.0
# Where the GUI thread's samples go: the first rule matching any frame of a sample's stack names it.
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("provider (read backend, sign, encrypt)", ("app/router/provider/",)),
    ("consumer (MOR-RPC verify, decrypt)", ("app/router/consumer/", "app/router/morrpc/", "consumer_backend.py")),
    ("chat view (batcher, markdown)", ("app/gui/chat/batcher.py", "message_widget.py", "transcript.py",
                                       "app/gui/chat/blocks.py", "app/gui/chat/answer.py")),
    ("marketplace pane", ("app/gui/marketplace/",)),
    ("dashboard", ("app/gui/dashboard.py", "app/gui/wallet_model.py", "app/gui/history.py")),
    ("chat pane + storage calls", ("app/gui/chat/", "app/storage/")),
    ("chain client (web3)", ("web3/", "app/chain/")),
    ("gc guard", ("gc_guard.py",)),
    ("frame probe", ("FrameProbe.__init__",)),
)
QT_NATIVE = "Qt native (paint, layout, event dispatch)"
QT_LEAF = "_QEventLoop.run_forever (qasync/__init__.py:404)"  # a sample's last Python frame while Qt's C++ runs
# py-spy counts a runnable thread as busy, so on a loaded machine the clock_gettime syscalls of SlowCallbacks (where
# the OS tends to preempt us) collect samples out of proportion to their ~0.3 µs of CPU: they get their own line.
TIMING_LEAF = "SlowCallbacks.__enter__.<locals>.timed"
TIMING = "callback timing (benchmark; mostly run-queue wait)"


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
        used = time.thread_time() - thread_cpu
        return {**self.result(), "stream_s": elapsed, "longest_cpu_busy_gap_ms": max(busy, default=0.0),
                "cpu_busy_gaps_over_50ms": sum(1 for b in busy if b > 50),
                "gui_thread_cpu_ms_per_token": used * 1000 / TOKENS, "gui_thread_cores": used / elapsed,
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


class SlowCallbacks:
    """Records the asyncio callbacks (task steps) that used more than 20 ms of the GUI thread's CPU.

    CPU, not wall time: on a loaded machine the wall clock mostly measures the time the OS did not run us. Qt's own
    slots (the batcher's flush timer, painting) are not asyncio callbacks: py-spy (``--profile``) sees those.
    """

    def __init__(self, enabled: bool = True) -> None:
        self.enabled = enabled
        self.seen: list[tuple[float, float, str]] = []  # (CPU ms, wall ms, what)
        self._original = asyncio.Handle._run

    def __enter__(self) -> SlowCallbacks:
        original, seen = self._original, self.seen
        if not self.enabled:
            return self

        def timed(handle: asyncio.Handle) -> None:
            cpu, wall = time.thread_time(), time.perf_counter()
            original(handle)
            used = (time.thread_time() - cpu) * 1000
            if used > SLOW_CALLBACK_MS:
                seen.append((round(used, 1), round((time.perf_counter() - wall) * 1000, 1), _describe(handle)))

        asyncio.Handle._run = timed  # type: ignore[method-assign,assignment]
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.Handle._run = self._original  # type: ignore[method-assign]

    def top(self, count: int = 10) -> list[tuple[float, float, str]]:
        return sorted(self.seen, reverse=True)[:count]


def _describe(handle: asyncio.Handle) -> str:
    """The task and the line its step stopped at, or the callback's repr."""
    task = getattr(handle._callback, "__self__", None)  # type: ignore[attr-defined]
    if isinstance(task, asyncio.Task):
        coro = task.get_coro()
        frame = getattr(coro, "cr_frame", None)
        where = f"{frame.f_code.co_filename.rsplit('/', 2)[-1]}:{frame.f_lineno}" if frame else "finished"
        return f"task {task.get_name()} {getattr(coro, '__qualname__', '?')} (now at {where})"
    return repr(handle)[:160]


def attribute(folded: Path, thread_id: int) -> dict[str, float]:
    """Share of one thread's samples per CATEGORIES entry, from a ``py-spy record --threads -f raw`` file."""
    shares: Counter[str] = Counter()
    prefix = f"thread ({thread_id})"
    for line in folded.read_text(encoding="utf-8").splitlines():
        stack, _, samples = line.rpartition(" ")
        if not samples.isdigit() or not stack.startswith(prefix):
            continue
        if stack.endswith(QT_LEAF):
            name = QT_NATIVE
        elif stack.rpartition(";")[2].startswith(TIMING_LEAF):
            name = TIMING
        else:
            name = next((name for name, needles in CATEGORIES if any(n in stack for n in needles)), "other")
        shares[name] += int(samples)
    total = sum(shares.values())
    return {name: n / total for name, n in shares.most_common()} if total else {}


class Profiler:
    """``py-spy record --nonblocking`` on this process (it samples without pausing us) into folded stacks."""

    def __init__(self, folder: Path | None) -> None:
        self.folder = folder
        self.path: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    def attribution(self) -> dict[str, float]:
        """Where the GUI thread's samples went (empty without a profile)."""
        if self.path is None or not self.path.exists():
            return {}
        return attribute(self.path, threading.main_thread().native_id or 0)

    def start(self, name: str) -> None:
        if self.folder is None:
            return
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / f"{name}.txt"
        spy = shutil.which("py-spy")
        if spy is None:
            raise RuntimeError("--profile needs py-spy on PATH (pip install py-spy)")
        self._proc = subprocess.Popen([spy, "record", "--nonblocking", "--threads", "-r", "250", "-f", "raw", "-p",
                                       str(os.getpid()), "-o", str(self.path)],
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


@dataclass
class Rig:
    """Everything the rows need: the services, the shared panes and both chat panes with their meters."""

    services: Services
    demo: DemoMarketplace
    model: WalletModel
    marketplace: MarketplacePane
    routed: ChatPane
    routed_meter: DeliveryMeter
    view_only: ChatPane
    view_meter: DeliveryMeter
    keep: list[Any]  # panes that must stay alive while shown


async def _rig(services: Services, data_dir: Path) -> Rig:
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
    routed_meter = DeliveryMeter(routed.backend)
    routed.backend = routed_meter
    for pane in (dashboard, marketplace, view_only, routed):
        pane.resize(1200, 800)
        pane.show()
    await model.refresh()
    await part2.built.refresh()
    await marketplace.show_model("0x" + demo.model_id.hex())
    await view_only.refresh()
    return Rig(services, demo, model, marketplace, routed, routed_meter, view_only, view_meter, [dashboard, part2])


async def _open_on(rig: Rig) -> str:
    """A fresh session with the benchmark's provider, made the routed chat's target."""
    swift = next(p for p in rig.demo.providers if p.spec.name == PROVIDER)
    consumer = rig.services.consumer
    assert consumer is not None
    session = await consumer.open_session(bid_id="0x" + swift.bid_id.hex(), failover=False)
    await rig.routed.add_session(session)
    return session.id


async def _provider_elsewhere(rig: Rig) -> Child:
    """Move the provider out of the GUI process: stop its in-process node, serve its key and port from
    provider_proc.py (the same ProviderController, its own process), so the GUI loop does the consumer side only."""
    swift = next(p for p in rig.demo.providers if p.spec.name == PROVIDER)
    devnet, demo = rig.services.devnet, rig.demo
    assert devnet is not None and demo.model_id is not None
    await swift.node.stop()
    return await spawn("tests.bench.provider_proc", "--rpc-url", devnet.rpc_url, "--diamond",
                       devnet.addresses.diamond, "--model-id", "0x" + demo.model_id.hex(), "--backend-url",
                       demo.backend_url, "--key-index", str(swift.spec.account), "--port", str(swift.port))


async def _rows(rig: Rig, path: str, chat: ChatPane, meter: DeliveryMeter, profile: Path | None,
                time_callbacks: bool) -> list[dict[str, Any]]:
    rows = []
    for busy in (False, True):
        name = f"{path.replace(' ', '-')}-{'busy' if busy else 'alone'}"
        profiler = Profiler(profile if profile and path != "view only" else None)
        profiler.start(name)
        try:
            with SlowCallbacks(time_callbacks) as slow:
                row = await _stream(chat, meter, busy=busy, model=rig.model, marketplace=rig.marketplace)
        finally:
            profiler.stop()
        case = "stream + dashboard 0.5 s + marketplace 1 s" if busy else "stream alone"
        rows.append({"path": path, "case": case, "busy": busy, **row, "slow_callbacks": slow.top(),
                     "profile": profiler.attribution()})
    return rows


async def measure(profile: Path | None, time_callbacks: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-gui-") as tmp:
        data_dir = Path(tmp)
        settings = load_settings([], environ={"MOR_DATA_DIR": tmp}, dotenv_path=data_dir / "absent.env")
        services = Services(load_node_config(settings), data_dir, devnet_engine="anvil",
                            wallet=wallet_manager(data_dir), demo=False)
        await services.start()
        provider: Child | None = None
        try:
            rig = await _rig(services, data_dir)
            freeze_startup_heap(collect_first=True)  # as the app does once its main window is up
            rows = await _rows(rig, "view only", rig.view_only, rig.view_meter, profile, time_callbacks)
            sessions = [await _open_on(rig)]
            rows += await _rows(rig, IN_PROCESS, rig.routed, rig.routed_meter, profile, time_callbacks)
            provider = await _provider_elsewhere(rig)
            sessions.append(await _open_on(rig))
            rows += await _rows(rig, OWN_PROCESS, rig.routed, rig.routed_meter, profile, time_callbacks)
            return {"rate_tok_s": RATE, "tokens": TOKENS, "seconds": SECONDS, "provider": PROVIDER,
                    "sessions": sessions, "callback_timing": time_callbacks, "rows": rows}
        finally:
            if provider is not None:
                await provider.stop()
            await services.stop()


def main() -> None:
    global SECONDS, TOKENS  # the stream's size is read module-wide (panes, meters, the paced model server)
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--profile", type=Path, help="folder for py-spy profiles of the router rows")
    parser.add_argument("--no-callback-timing", action="store_true",
                        help="skip the per-callback CPU timing (two clock reads per asyncio callback)")
    parser.add_argument("--seconds", type=float, default=SECONDS,
                        help=f"length of each {RATE:,} tok/s stream (default {SECONDS:g})")
    args = parser.parse_args()
    SECONDS, TOKENS = args.seconds, int(RATE * args.seconds)
    pin_singletons()
    app = QApplication.instance() or QApplication([])
    gc_guard = MainThreadGc(app)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        result = loop.run_until_complete(measure(args.profile, not args.no_callback_timing))
    gc_guard.stop()
    result["machine"] = machine()
    print(f"{'path':28} {'case':44} {'stall ms':>9} {'CPU-busy':>9} {'p99 gap':>8} {'dropped':>8} {'TTFT ms':>8} "
          f"{'tok/s':>7} {'dash/mkt':>9} {'ms CPU/tok':>10} {'rq wait':>8} {'load':>5}")
    for r in result["rows"]:
        tps = f"{r['delivered_tok_s']:.0f}" if r["delivered_tok_s"] else "cut"
        ttft = f"{r['ttft_ms']:.0f}" if r["ttft_ms"] is not None else "-"
        print(f"{r['path']:28} {r['case']:44} {r['longest_stall_ms']:9.1f} {r['longest_cpu_busy_gap_ms']:9.1f} "
              f"{r['p99_gap_ms']:8.1f} {r['frames_dropped']:8d} {ttft:>8} {tps:>7} "
              f"{r['dashboard_refreshes']:>4}/{r['marketplace_reloads']:<4} {r['gui_thread_cpu_ms_per_token']:10.2f} "
              f"{r['gui_thread_runqueue_wait_s']:7.1f}s {r['load_avg_1m']:5.1f}")
    for r in result["rows"]:
        if r["profile"]:
            shares = ", ".join(f"{k} {v:.0%}" for k, v in r["profile"].items() if v >= 0.01)
            print(f"GUI thread samples, {r['path']}, {r['case']}: {shares}")
        for cpu_ms, wall_ms, what in r["slow_callbacks"][:5]:
            print(f"  slow callback, {r['path']}, {r['case']}: {cpu_ms:.0f} ms CPU ({wall_ms:.0f} ms wall) {what}")
    print({"written": str(write_result("bench_gui_combined", result))})


if __name__ == "__main__":
    main()
