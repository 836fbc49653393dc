"""A chain that fails to start behind the wizard or unlock screen is said there, with Retry; nothing typed is lost."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.devnet.service import DevnetService
from app.errors import DevnetError
from app.gui.chain_banner import RETRYING_TEXT
from app.gui.wizard_view import SetupWizardView
from app.wallet.manager import LockState
from app.wallet.secret import WalletSecret
from app.wallet.wizard import Step
from tests.gui.support import (
    PASSWORD,
    app_controller,
    click,
    phrase_words,
    type_into,
    until,
    wallet_manager,
    wizard_to_the_phrase_page,
)

pytestmark = pytest.mark.slow  # each test starts a real devnet behind the entry screens (~10-15 s)

THROWAWAY_KEY = "0x" + "42" * 32
FAILURE = "The local chain could not start: test failure. Retry, or set ETH_NODE_ADDRESS."


@dataclass
class ScriptedDevnet:
    """DevnetService.start under the test's control: the first start fails when ``fail`` is set; later starts
    run the real devnet once ``succeed`` is set (set from the outset unless a test clears it)."""

    fail: asyncio.Event = field(default_factory=asyncio.Event)
    succeed: asyncio.Event = field(default_factory=asyncio.Event)
    starts: int = 0


@pytest.fixture
def devnet(monkeypatch: pytest.MonkeyPatch) -> ScriptedDevnet:
    script = ScriptedDevnet()
    script.succeed.set()
    original = DevnetService.start

    async def scripted_start(self: DevnetService) -> None:
        script.starts += 1
        if script.starts == 1:
            await script.fail.wait()
            raise DevnetError(FAILURE)
        await script.succeed.wait()
        await original(self)

    monkeypatch.setattr(DevnetService, "start", scripted_start)
    return script


async def _finish_wizard(qtbot: QtBot, wizard: SetupWizardView, words: list[str]) -> None:
    """From the phrase page: confirm it, type the words asked for, keep the default network, press Finish."""
    click(qtbot, wizard.create_show.next_button)
    for position, word_field in wizard.create_verify.fields.items():
        type_into(word_field.edit, words[position - 1])
    click(qtbot, wizard.create_verify.next_button)
    await until(lambda: wizard.wizard.step is Step.NETWORK, what="the network page")
    click(qtbot, wizard.network.next_button)
    await until(lambda: wizard.wizard.step is Step.DONE, what="the done page")
    click(qtbot, wizard.done.next_button)


async def test_a_chain_failure_on_the_recovery_phrase_page_is_a_banner_and_retry_clears_it(
    qtbot: QtBot, isolated_data_dir: Path, devnet: ScriptedDevnet
) -> None:
    controller = app_controller(isolated_data_dir)
    try:
        controller.start()
        wizard, words = await wizard_to_the_phrase_page(qtbot, controller)
        banner = wizard.chain_banner
        assert not banner.isVisible()

        devnet.fail.set()
        await until(banner.isVisible, what="the failure banner")
        assert FAILURE in banner.message.text()
        assert banner.retry.isVisible()
        # Still on the wizard, on the same page, with the same phrase and the box ticked.
        assert controller.entry.currentWidget() is wizard
        assert controller.entry.wizard is wizard
        assert wizard.current_page() is wizard.create_show
        assert phrase_words(wizard) == words
        assert wizard.create_show.written.isChecked()
        assert not controller.entry.startup.isVisible()

        devnet.succeed.clear()  # hold the second start to see the banner while it runs
        click(qtbot, banner.retry)
        await until(lambda: banner.message.text() == RETRYING_TEXT, what="the retrying note")
        assert not banner.retry.isVisible()
        devnet.succeed.set()
        await until(lambda: not banner.isVisible(), within=30, what="the banner gone once the chain is up")
        assert controller.chain_ready is not None and controller.chain_ready.result() is True
        assert devnet.starts == 2
        assert wizard.current_page() is wizard.create_show and phrase_words(wizard) == words

        await _finish_wizard(qtbot, wizard, words)  # the wizard goes on where it was, to the main window
        await until(lambda: controller.main is not None and controller.main.isVisible(), what="the main window")
    finally:
        devnet.fail.set()
        devnet.succeed.set()
        await controller.stop()


async def test_finishing_the_wizard_after_a_chain_failure_shows_the_failure_and_retry_opens_the_main_window(
    qtbot: QtBot, isolated_data_dir: Path, devnet: ScriptedDevnet
) -> None:
    controller = app_controller(isolated_data_dir)
    try:
        controller.start()
        wizard, words = await wizard_to_the_phrase_page(qtbot, controller)
        devnet.fail.set()
        await until(wizard.chain_banner.isVisible, what="the failure banner")

        await _finish_wizard(qtbot, wizard, words)  # the chain is needed now: the failure takes the window
        startup = controller.entry.startup
        await until(lambda: startup.isVisible() and startup.retry.isVisible(), what="the start-up failure screen")
        assert FAILURE in startup.error.text()
        assert controller.main is None
        services = controller.services
        assert services is not None and services.wallet.state is LockState.UNLOCKED  # the new wallet is kept

        click(qtbot, startup.retry)
        await until(lambda: controller.main is not None and controller.main.isVisible(), within=30, what="main")
        assert controller.services is services  # the chain was retried, nothing restarted: still unlocked
        assert services.sender is not None and services.sender.address == services.wallet.address
    finally:
        devnet.fail.set()
        await controller.stop()


async def test_a_chain_failure_on_the_unlock_screen_keeps_the_typed_password_and_retry_clears_it(
    qtbot: QtBot, isolated_data_dir: Path, devnet: ScriptedDevnet
) -> None:
    manager = wallet_manager(isolated_data_dir)
    await manager.setup(PASSWORD, WalletSecret.from_private_key(THROWAWAY_KEY))
    manager.lock("test")
    controller = app_controller(isolated_data_dir)
    try:
        controller.start()
        await until(lambda: controller.entry.unlock is not None and controller.entry.unlock.isVisible(), what="unlock")
        unlock = controller.entry.unlock
        assert unlock is not None
        type_into(unlock.password.edit, PASSWORD)

        devnet.fail.set()
        await until(unlock.chain_banner.isVisible, what="the failure banner")
        assert FAILURE in unlock.chain_banner.message.text()
        assert controller.entry.currentWidget() is unlock
        assert unlock.password.text() == PASSWORD

        click(qtbot, unlock.chain_banner.retry)
        await until(lambda: not unlock.chain_banner.isVisible(), within=30, what="the banner gone")
        assert controller.entry.currentWidget() is unlock and unlock.password.text() == PASSWORD
        click(qtbot, unlock.unlock_button)
        await until(lambda: controller.main is not None and controller.main.isVisible(), what="the main window")
    finally:
        devnet.fail.set()
        await controller.stop()
