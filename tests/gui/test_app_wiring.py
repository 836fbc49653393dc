"""The assembled desktop app: all six panes, the HTTP API beside the GUI, and panes that follow lock and unlock."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.errors import WalletError
from app.gui.controller import AppController
from app.gui.live import LiveConsumer
from app.gui.part2_wiring import Part2
from app.wallet.manager import LockState
from tests.gui.support import PASSWORD, click, create_wallet_through_wizard, type_into, until, wallet_manager

pytestmark = pytest.mark.slow  # starts the real app with an embedded devnet


def _controller(data_dir: Path, part2: Part2) -> AppController:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    environ = {"MOR_DATA_DIR": str(data_dir), "WEB_ADDRESS": "127.0.0.1:0"}
    return AppController(
        app, data_dir, environ=environ, dotenv_path=data_dir / "absent.env", devnet_engine="eth-tester",
        demo=False, wallet_factory=wallet_manager, extra_panes=[part2.panes], window_hooks=[part2.attach],
    )  # fmt: skip


async def test_the_app_has_every_pane_serves_the_api_and_follows_the_wallet(
    qtbot: QtBot, isolated_data_dir: Path
) -> None:
    part2 = Part2()
    controller = _controller(isolated_data_dir, part2)
    try:
        controller.start()
        await create_wallet_through_wizard(qtbot, controller)
        main = controller.main
        services = controller.services
        assert main is not None
        assert services is not None
        assert main.pane_keys() == ["dashboard", "marketplace", "chat", "staking", "provider", "settings"]

        assert controller.api is not None
        async with aiohttp.ClientSession() as http, http.get(f"{controller.api.url}/healthcheck") as response:
            assert response.status == 200
            assert (await response.json())["status"] == "healthy"

        live = LiveConsumer(services)
        assert services.consumer is not None
        assert live.sessions == services.consumer.sessions  # forwards to the unlocked wallet's consumer

        main.lock_requested.emit()
        await until(lambda: controller.entry.unlock is not None and controller.entry.unlock.isVisible(), what="lock")
        assert services.consumer is None
        with pytest.raises(WalletError, match="unlock"):
            _ = live.sessions  # a locked wallet's consumer is not reachable from the panes

        unlock = controller.entry.unlock
        assert unlock is not None
        type_into(unlock.password.edit, PASSWORD)
        click(qtbot, unlock.unlock_button)
        await until(lambda: main.isVisible(), what="the main window after unlocking")
        assert services.wallet.state is LockState.UNLOCKED
        assert services.consumer is not None
        assert live.sessions == services.consumer.sessions  # the new consumer, not the one before the lock
    finally:
        await controller.stop()


async def test_reset_devnet_erases_the_local_chain_and_starts_a_fresh_one(isolated_data_dir: Path) -> None:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    environ = {"MOR_DATA_DIR": str(isolated_data_dir), "WALLET_PRIVATE_KEY": "0x" + "11" * 32}
    controller = AppController(
        app, isolated_data_dir, environ=environ, dotenv_path=isolated_data_dir / "absent.env", devnet_engine="anvil",
        demo=False, serve_api=False,
    )  # fmt: skip
    try:
        controller.start()
        await until(lambda: controller.main is not None and controller.main.isVisible(), what="the main window")
        assert controller.services is not None
        services = controller.services
        assert services.devnet is not None
        assert services.token is not None
        marker = "0x000000000000000000000000000000000000bEEF"
        await services.devnet.faucet.fund(marker, eth_wei=1, mor_wei=7)
        assert await services.token.balance_of(marker) == 7
        await controller.reset_devnet()
        await until(lambda: controller.main is not None and controller.main.isVisible(), what="the main window again")
        fresh = controller.services
        assert fresh is not None
        assert fresh.devnet is not None
        assert fresh.token is not None
        assert fresh.devnet.freshly_deployed  # not the saved chain state: a new deployment
        assert await fresh.token.balance_of(marker) == 0  # what happened on the old chain is gone
    finally:
        await controller.stop()
