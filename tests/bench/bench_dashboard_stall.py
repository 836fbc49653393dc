"""Benchmark: the longest event-loop stall while the dashboard and staking pane refresh (printed, not asserted).

A probe task sleeps 2 ms at a time on the qasync loop and records how late each wake-up is; meanwhile the shared
WalletModel refreshes the dashboard and the staking pane 30 times for a wallet with open sessions, an early-closed
session on hold and a history of transfers. Run for the in-process eth-tester devnet and, when found, anvil.

Run: QT_QPA_PLATFORM=offscreen python3 tests/bench/bench_dashboard_stall.py
(writes tests/bench/results/bench_dashboard_stall.json)
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import qasync
from PySide6.QtWidgets import QApplication

from app.bootstrap.services import Services
from app.config.node_config import load_node_config
from app.config.settings import load_settings
from app.devnet.service import EngineChoice
from app.gui.dashboard import DashboardPane
from app.gui.gc_guard import MainThreadGc
from app.gui.refcount_guard import pin_singletons
from app.gui.staking import StakingPane
from app.gui.wallet_model import WalletModel
from app.heap import freeze_startup_heap
from app.wallet.secret import WalletSecret
from tests.bench.bench_env import write_result
from tests.gui.market import SESSION_STAKE, close_session, list_bid, new_party, open_session, travel
from tests.gui.support import PASSWORD, wallet_manager

REFRESHES = 30
PROBE_S = 0.002
SESSIONS = 4
TRANSFERS = 20


class LagProbe:
    """Measures how late the loop runs a 2 ms sleep: the lateness is the stall a user would feel."""

    def __init__(self) -> None:
        self.lags: list[float] = []
        self._task: asyncio.Task[None] | None = None

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            start = loop.time()
            await asyncio.sleep(PROBE_S)
            self.lags.append(loop.time() - start - PROBE_S)

    def start(self) -> None:
        self.lags.clear()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        assert self._task is not None
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)


async def _prepare(services: Services) -> None:
    assert services.devnet is not None and services.token is not None and services.diamond is not None
    me = services.wallet.address
    assert me is not None
    await services.devnet.faucet.fund(me)
    provider = await new_party(services)
    bid = await list_bid(provider)
    await services.token.approve(services.diamond.address, SESSION_STAKE * (SESSIONS + 1))
    ids = []
    for _ in range(SESSIONS + 1):
        await travel(services, 2)  # a fresh approval timestamp: anvil may put several txs in one second
        ids.append(await open_session(services.diamond, me, provider.signer, bid))
    await close_session(services.diamond, provider.signer, ids[-1])
    for _ in range(TRANSFERS):
        await services.token.transfer(provider.address, 10**17)


def _time_renders(dashboard: DashboardPane, staking: StakingPane) -> dict[str, list[float]]:
    """Wrap the panes' render slots to record how long each call holds the loop (the likely stall sources)."""
    times: dict[str, list[float]] = {}
    model = dashboard.model
    for name, slot in (("dashboard_picture", dashboard.show_picture), ("dashboard_history", dashboard.show_history),
                       ("staking_picture", staking.show_picture)):  # fmt: skip
        bucket = times.setdefault(name, [])

        def timed(value: object, slot=slot, bucket=bucket) -> None:  # type: ignore[no-untyped-def]
            start = time.perf_counter()
            slot(value)  # type: ignore[arg-type]
            bucket.append((time.perf_counter() - start) * 1e3)

        signal = model.history_changed if name == "dashboard_history" else model.picture_changed
        signal.disconnect(slot)
        signal.connect(timed)
    return times


async def measure(engine: EngineChoice, refreshes: int = REFRESHES) -> dict[str, float | int | str]:
    with tempfile.TemporaryDirectory(prefix="bench-dash-") as tmp:
        data_dir = Path(tmp)
        settings = load_settings([], environ={"MOR_DATA_DIR": tmp}, dotenv_path=data_dir / "absent.env")
        services = Services(load_node_config(settings), data_dir, devnet_engine=engine, wallet=wallet_manager(data_dir),
                            demo=False)  # fmt: skip
        await services.start()
        try:
            await services.wallet.setup(PASSWORD, WalletSecret.from_private_key("0x" + os.urandom(32).hex()))
            await _prepare(services)
            model = WalletModel(services)
            dashboard, staking = DashboardPane(services, model), StakingPane(services, model)
            for pane in (dashboard, staking):
                pane.resize(1200, 800)
                pane.show()
            await model.refresh()  # the main window's first refresh; then, as the app does, the start-up heap is
            freeze_startup_heap(collect_first=True)  # frozen (once per process: the first engine's run does it)
            probe = LagProbe()
            probe.start()
            await asyncio.sleep(0.5)  # idle baseline
            await probe.stop()
            idle = max(probe.lags, default=0.0)
            render_ms = _time_renders(dashboard, staking)
            probe.start()
            began = time.perf_counter()
            for _ in range(refreshes):
                await model.refresh()
            elapsed = time.perf_counter() - began
            await probe.stop()
            lags = sorted(probe.lags)
            assert model.picture is not None and len(model.picture.sessions) == SESSIONS
            for pane in (dashboard, staking):
                pane.close()
                pane.deleteLater()
            return {
                "engine": engine, "refreshes": refreshes, "refresh_ms": elapsed / refreshes * 1e3,
                "idle_max_stall_ms": idle * 1e3, "max_stall_ms": lags[-1] * 1e3,
                "p99_stall_ms": lags[int(len(lags) * 0.99) - 1] * 1e3, "median_stall_ms": statistics.median(lags) * 1e3,
                "history_rows": dashboard.history.rowCount(),
                **{f"max_{name}_ms": max(times, default=0.0) for name, times in render_ms.items()},
            }
        finally:
            await services.stop()


async def run_all(refreshes: int = REFRESHES, only: EngineChoice | None = None) -> list[dict[str, float | int | str]]:
    engines: list[EngineChoice] = [] if os.environ.get("BENCH_SKIP_TESTER") else ["eth-tester"]
    if os.environ.get("ANVIL_PATH") or shutil.which("anvil"):
        engines.append("anvil")
    if only is not None:
        engines = [only]
    return [await measure(engine, refreshes) for engine in engines]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--refreshes", type=int, default=REFRESHES, help=f"refreshes measured (default {REFRESHES})")
    parser.add_argument("--engine", choices=["eth-tester", "anvil"],
                        help="only this devnet engine (default: eth-tester, and anvil when found)")
    args = parser.parse_args()
    pin_singletons()
    app = QApplication.instance() or QApplication([])
    assert isinstance(app, QApplication)
    app.setQuitOnLastWindowClosed(False)  # the panes close between engines; the loop must keep running
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    guard = MainThreadGc()  # as in the app: Qt objects are freed on the GUI thread only
    with loop:
        rows = loop.run_until_complete(run_all(args.refreshes, args.engine))
    guard.stop()
    print(f"{'engine':<11} {'refresh ms':>10} {'idle max':>9} {'max stall':>10} {'p99':>7} {'median':>7}  (ms)")
    for r in rows:
        print(f"{r['engine']:<11} {r['refresh_ms']:>10.1f} {r['idle_max_stall_ms']:>9.1f} {r['max_stall_ms']:>10.1f} "
              f"{r['p99_stall_ms']:>7.1f} {r['median_stall_ms']:>7.2f}")
        renders = {k: round(float(v), 1) for k, v in r.items() if k.startswith("max_") and k != "max_stall_ms"}
        print(f"{'':<11} longest render calls (ms): {renders}")
    write_result("bench_dashboard_stall", rows)  # a list: run_all.py reads one row per engine


if __name__ == "__main__":
    main()
