"""Benchmark: the whole GUI busy at once — a 1,000 tokens/s chat stream, the dashboard refreshing and the marketplace
reloading — on a real anvil devnet with the demo marketplace (nothing asserted).

Reports the longest event-loop stall (a 60 Hz frame timer's worst gap beyond its period), the p99 gap and the
frames dropped, for the stream alone and for all three together, side by side in one run.

Run from the repo root: ANVIL_PATH=packaging/npm/node_modules/.bin/anvil python3 -m tests.bench.bench_gui_combined
(offscreen; writes tests/bench/results/bench_gui_combined.json)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any, cast

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import qasync
from PySide6.QtWidgets import QApplication

from app.bootstrap.services import Services
from app.config.node_config import load_node_config
from app.config.settings import load_settings
from app.gui.bridge import Bridge
from app.gui.chat.pane import ChatPane
from app.gui.dashboard import DashboardPane
from app.gui.gc_guard import MainThreadGc
from app.gui.part2_wiring import Part2
from app.gui.refcount_guard import pin_singletons
from app.gui.wallet_model import WalletModel
from app.wallet.secret import WalletSecret
from tests.bench.bench_chat_view import FrameProbe, PacedBackend
from tests.bench.bench_dashboard_stall import _prepare
from tests.gui.support import PASSWORD, wallet_manager

RATE = 1000
SECONDS = 8.0
DASHBOARD_EVERY_S = 0.5
MARKETPLACE_EVERY_S = 1.0


async def _every(interval: float, action: Any, count: list[int]) -> None:
    while True:
        await action()
        count[0] += 1
        await asyncio.sleep(interval)


async def _stream(chat: ChatPane, *, busy: bool, model: WalletModel, marketplace: Any) -> dict[str, float]:
    probe = FrameProbe()
    background: list[asyncio.Task[None]] = []
    dashboards, markets = [0], [0]
    if busy:
        background = [asyncio.ensure_future(_every(DASHBOARD_EVERY_S, model.refresh, dashboards)),
                      asyncio.ensure_future(_every(MARKETPLACE_EVERY_S, marketplace.refresh, markets))]
    probe.timer.start()
    await chat.send("Write a long answer")
    probe.timer.stop()
    for task in background:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    return {**probe.result(), "dashboard_refreshes": dashboards[0], "marketplace_reloads": markets[0]}


async def measure() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-gui-") as tmp:
        data_dir = Path(tmp)
        settings = load_settings([], environ={"MOR_DATA_DIR": tmp}, dotenv_path=data_dir / "absent.env")
        services = Services(
            load_node_config(settings), data_dir, devnet_engine="anvil", wallet=wallet_manager(data_dir)
        )
        await services.start()
        try:
            await services.wallet.setup(PASSWORD, WalletSecret.from_private_key("0x" + os.urandom(32).hex()))
            await _prepare(services)
            model = WalletModel(services)
            dashboard = DashboardPane(services, model)
            part2 = Part2()
            part2.panes(services, cast(Bridge, None))
            assert part2.built is not None
            marketplace = part2.built.marketplace
            assert services.storage is not None
            chat = ChatPane(services.storage, PacedBackend(RATE, SECONDS), local_label="bench")
            for pane in (dashboard, marketplace, chat):
                pane.resize(1200, 800)
                pane.show()
            await model.refresh()
            await marketplace.refresh()
            await chat.refresh()
            alone = await _stream(chat, busy=False, model=model, marketplace=marketplace)
            together = await _stream(chat, busy=True, model=model, marketplace=marketplace)
            return {"rate_tok_s": RATE, "seconds": SECONDS, "stream_alone": alone,
                    "stream_dashboard_marketplace": together}
        finally:
            await services.stop()


def main() -> None:
    pin_singletons()
    app = QApplication.instance() or QApplication([])
    gc_guard = MainThreadGc(app)
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    with loop:
        result = loop.run_until_complete(measure())
    gc_guard.stop()
    print(f"{'case':30} {'longest stall ms':>17} {'p99 gap ms':>11} {'dropped':>8} {'dash/market reloads':>20}")
    for case in ("stream_alone", "stream_dashboard_marketplace"):
        r = result[case]
        reloads = f"{r['dashboard_refreshes']}/{r['marketplace_reloads']}"
        print(f"{case:30} {r['longest_stall_ms']:17.1f} {r['p99_gap_ms']:11.1f} {r['frames_dropped']:8d} {reloads:>20}")
    out = Path(__file__).parent / "results" / "bench_gui_combined.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps({"written": str(out)}))


if __name__ == "__main__":
    main()
