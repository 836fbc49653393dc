"""Start-up order: the unlock screen comes before the chain is up; the main window waits for it; its failures show."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.devnet.service import DevnetService
from app.errors import DevnetError
from app.wallet.manager import LockState
from app.wallet.secret import WalletSecret
from tests.gui.support import (
    PASSWORD,
    app_controller,
    click,
    type_into,
    until,
    wallet_manager,
)

THROWAWAY_KEY = "0x" + "42" * 32


async def _wallet_on_disk(data_dir: Path) -> None:
    manager = wallet_manager(data_dir)
    await manager.setup(PASSWORD, WalletSecret.from_private_key(THROWAWAY_KEY))
    manager.lock("test")


@pytest.fixture
def held_devnet(monkeypatch: pytest.MonkeyPatch) -> asyncio.Event:
    """The devnet's start waits until the test sets the returned event."""
    release = asyncio.Event()
    original = DevnetService.start

    async def start_when_released(self: DevnetService) -> None:
        await release.wait()
        await original(self)

    monkeypatch.setattr(DevnetService, "start", start_when_released)
    return release


async def test_unlock_screen_shows_before_the_chain_and_unlocking_waits_for_it(
    qtbot: QtBot, isolated_data_dir: Path, held_devnet: asyncio.Event
) -> None:
    await _wallet_on_disk(isolated_data_dir)
    controller = app_controller(isolated_data_dir)
    try:
        controller.start()
        await until(lambda: controller.entry.unlock is not None and controller.entry.unlock.isVisible(), what="unlock")
        services = controller.services
        assert services is not None
        assert services.chain is None  # the devnet is still held: the unlock screen did not wait for it
        assert controller.chain_ready is not None and not controller.chain_ready.done()

        unlock = controller.entry.unlock
        assert unlock is not None
        type_into(unlock.password.edit, PASSWORD)
        click(qtbot, unlock.unlock_button)
        await until(lambda: services.wallet.state is LockState.UNLOCKED, what="the wallet unlocked")
        # Unlocked before the chain: the start-up progress is on screen, not a main window without a chain.
        await until(lambda: controller.entry.currentWidget() is controller.entry.startup, what="start-up progress")
        assert controller.main is None
        await until(lambda: "chain" in controller.entry.startup.steps, what="the chain step listed")

        held_devnet.set()
        await until(lambda: controller.main is not None and controller.main.isVisible(), what="the main window")
        assert services.sender is not None  # the write side was attached once the chain came up
        assert services.sender.signer.address == services.wallet.address
    finally:
        held_devnet.set()
        await controller.stop()


async def test_a_chain_failure_behind_the_wizard_is_a_banner_on_it_and_the_wizard_stays(
    isolated_data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    release = asyncio.Event()

    async def fail(self: DevnetService) -> None:
        await release.wait()
        raise DevnetError("The local chain could not start: test failure. Retry, or set ETH_NODE_ADDRESS.")

    monkeypatch.setattr(DevnetService, "start", fail)
    controller = app_controller(isolated_data_dir)
    try:
        controller.start()
        await until(lambda: controller.entry.wizard is not None and controller.entry.wizard.isVisible(), what="wizard")
        wizard = controller.entry.wizard
        release.set()
        assert wizard is not None
        banner = wizard.chain_banner
        await until(lambda: banner.isVisible() and banner.retry.isVisible(), what="the failure banner on the wizard")
        assert "The local chain could not start: test failure" in banner.message.text()
        assert controller.entry.wizard is wizard and wizard.isVisible()  # the person stays where they were
        assert not controller.entry.startup.isVisible()
        assert controller.chain_ready is not None and controller.chain_ready.done()
        assert controller.chain_ready.result() is False
    finally:
        await controller.stop()
