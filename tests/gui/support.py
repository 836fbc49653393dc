"""Helpers for GUI tests on a real embedded devnet: started services with a throwaway wallet, polling."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import keyring.backends.fail
from PySide6.QtWidgets import QAbstractButton, QApplication, QLineEdit, QWidget
from pytestqt.qtbot import QtBot

from app.bootstrap.services import Services
from app.config.node_config import load_node_config
from app.config.settings import load_settings
from app.events import EventBus
from app.gui.controller import AppController
from app.gui.refcount_guard import pin_singletons
from app.gui.tx_flow import ConfirmDialog
from app.gui.wizard_view import SetupWizardView
from app.wallet.keystore import ScryptParams
from app.wallet.manager import WalletManager
from app.wallet.secret import WalletSecret
from app.wallet.wizard import SetupPath, Step

pin_singletons()  # as the app does; without it a long GUI test run aborts with "deallocating None"

PASSWORD = "correct horse battery"
FAST_SCRYPT = ScryptParams(n=2**4)


def wallet_manager(data_dir: Path) -> WalletManager:
    """A wallet manager storing to a file in ``data_dir`` (no OS keychain), with fast scrypt for tests."""
    return WalletManager(data_dir, keyring_backend=keyring.backends.fail.Keyring(), scrypt=FAST_SCRYPT, environ={})


def build_services(data_dir: Path, bus: EventBus | None = None) -> Services:
    """Services on an in-process eth-tester devnet, configured from nothing (as on a first launch)."""
    settings = load_settings([], environ={"MOR_DATA_DIR": str(data_dir)}, dotenv_path=data_dir / "absent.env")
    return Services(
        load_node_config(settings), data_dir, bus=bus or EventBus(), devnet_engine="eth-tester",
        wallet=wallet_manager(data_dir), demo=False,
    )  # fmt: skip


@asynccontextmanager
async def running_services(
    data_dir: Path, *, with_wallet: bool = True, funded: bool = True, bus: EventBus | None = None
) -> AsyncIterator[Services]:
    """Started services; optionally a fresh random wallet set up and unlocked, funded by the devnet faucet."""
    services = build_services(data_dir, bus)
    try:
        await services.start()
        if with_wallet:
            await services.wallet.setup(PASSWORD, WalletSecret.from_private_key("0x" + os.urandom(32).hex()))
            if funded:
                assert services.devnet is not None and services.wallet.address is not None
                await services.devnet.faucet.fund(services.wallet.address, 10**18, 100 * 10**18)
        yield services
    finally:
        await services.stop()


async def until(condition: Callable[[], object], *, within: float = 15.0, what: str = "condition") -> None:
    """Poll ``condition`` on the running loop (never qtbot.waitUntil inside an async test)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() > deadline:
            pending = "; ".join(f"{t.get_name()}: {' > '.join(_awaiting(t))}" for t in asyncio.all_tasks())
            raise AssertionError(f"timed out waiting for {what} (tasks: {pending})")
        await asyncio.sleep(0.02)


def _awaiting(task: asyncio.Task[object]) -> list[str]:
    """Where ``task`` is waiting, outermost first (for timeout messages)."""
    out: list[str] = []
    coro: object = task.get_coro()
    while coro is not None:
        frame = getattr(coro, "cr_frame", None)
        if frame is None:
            out.append(type(coro).__name__)
            break
        out.append(f"{frame.f_code.co_name}:{frame.f_lineno}")
        coro = getattr(coro, "cr_await", None)
    return out


def click(qtbot: QtBot, button: QAbstractButton) -> None:
    """Click ``button`` as a person can: only when it is shown and enabled.

    ``QAbstractButton.click()`` rather than ``qtbot.mouseClick``: QTest's input synthesis spins Qt's event loop
    re-entrantly, so on a qasync loop an asyncio callback (a finished thread, a socket) could run inside the test's
    own step and be lost. ``click()`` emits the same signals without processing other events.
    """
    assert button.isVisible(), f"{button.text()!r} is not visible"
    assert button.isEnabled(), f"{button.text()!r} is disabled"
    button.click()


def type_into(edit: QLineEdit, text: str) -> None:
    """Type ``text`` at the cursor as an edit (emits textEdited), without QTest's re-entrant event processing."""
    edit.setFocus()
    edit.insert(text)


async def answer_confirmation(qtbot: QtBot, parent: QWidget, *, accept: bool = True) -> ConfirmDialog:
    """Wait for the transaction confirmation dialog over ``parent``, its fee estimated, then confirm or cancel."""
    found: list[ConfirmDialog] = []

    def ready() -> bool:
        found[:] = [d for d in parent.findChildren(ConfirmDialog) if d.isVisible()]
        return bool(found) and (found[0].confirm_button.isEnabled() or found[0].error.isVisible())

    await until(ready, what="the confirmation dialog with its fee")
    dialog = found[0]
    if accept:
        click(qtbot, dialog.confirm_button)
    else:
        dialog.reject()
    return dialog


def app_controller(data_dir: Path) -> AppController:
    """The desktop app's controller on ``data_dir`` with an eth-tester devnet, no demo and no HTTP API."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return AppController(
        app, data_dir, environ={"MOR_DATA_DIR": str(data_dir)}, dotenv_path=data_dir / "absent.env",
        devnet_engine="eth-tester", demo=False, wallet_factory=wallet_manager, serve_api=False,
    )  # fmt: skip


async def wizard_to_the_phrase_page(qtbot: QtBot, controller: AppController) -> tuple[SetupWizardView, list[str]]:
    """Walk the first-run wizard to the new recovery phrase and tick "written down"; the wizard and the words shown."""
    await until(lambda: controller.entry.wizard is not None and controller.entry.wizard.view is not None, what="wizard")
    wizard = controller.entry.wizard
    assert wizard is not None
    wizard.terms.accept_box.setChecked(True)
    click(qtbot, wizard.terms.next_button)
    type_into(wizard.password.password.edit, PASSWORD)
    type_into(wizard.password.confirmation.edit, PASSWORD)
    click(qtbot, wizard.password.next_button)
    click(qtbot, wizard.choose.buttons[SetupPath.CREATE])
    wizard.create_show.written.setChecked(True)
    return wizard, phrase_words(wizard)


def phrase_words(wizard: SetupWizardView) -> list[str]:
    """The recovery phrase the wizard's "write these down" page shows, in order."""
    return [label.text().rsplit(" ", 1)[1] for label in wizard.create_show.words]


async def create_wallet_through_wizard(qtbot: QtBot, controller: AppController) -> None:
    """Walk the first-run wizard as a user would (create path, new mnemonic typed back) up to the main window."""
    wizard, words = await wizard_to_the_phrase_page(qtbot, controller)
    click(qtbot, wizard.create_show.next_button)
    for position, field in wizard.create_verify.fields.items():
        type_into(field.edit, words[position - 1])
    click(qtbot, wizard.create_verify.next_button)
    await until(lambda: wizard.wizard.step is Step.NETWORK, what="the network page")
    click(qtbot, wizard.network.next_button)
    await until(lambda: wizard.wizard.step is Step.DONE, what="the done page")
    click(qtbot, wizard.done.next_button)
    # The devnet starts behind the wizard; on a first launch the main window also waits for its deployment.
    await until(lambda: controller.main is not None and controller.main.isVisible(), within=60,
                what="the main window")
