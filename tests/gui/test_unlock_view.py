"""The unlock screen: empty and wrong passwords are said next to the field; the right one unlocks."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot

from app.gui.unlock_view import UnlockView
from app.wallet.manager import LockState
from app.wallet.secret import WalletSecret
from tests.gui.support import PASSWORD, click, type_into, until, wallet_manager

DEV_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # anvil's public dev key #1


async def test_unlock_refuses_empty_and_wrong_passwords_then_unlocks(qtbot: QtBot, isolated_data_dir: Path) -> None:
    manager = wallet_manager(isolated_data_dir)
    await manager.setup(PASSWORD, WalletSecret.from_private_key(DEV_KEY))
    manager.lock()
    view = UnlockView(manager)
    qtbot.addWidget(view)
    view.show()
    view.prepare("Locked after 15 min idle.")
    assert "0x7099…79C8" in view.reason.text()

    click(qtbot, view.unlock_button)
    assert view.password.error.text() == "Enter your app password."

    type_into(view.password.edit, "wrong password")
    click(qtbot, view.unlock_button)
    await until(lambda: view.password.error.isVisible() and "Wrong password" in view.password.error.text(),
                what="the wrong-password message")  # fmt: skip
    assert manager.state is LockState.LOCKED

    view.password.edit.setText(PASSWORD)
    with qtbot.waitSignal(view.unlocked, timeout=5000) as blocker:
        click(qtbot, view.unlock_button)
        await until(lambda: manager.state is LockState.UNLOCKED, what="the unlock")
    assert blocker.args == [manager.address]
    assert view.password.text() == ""  # the password does not linger in the widget
