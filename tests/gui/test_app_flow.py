"""The whole app on a real devnet, driven through its widgets: create a wallet, fund it from the faucet, see the
balance, approve MOR, lock and unlock; later launches open on the unlock screen."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.gui.dashboard import DashboardPane
from app.gui.staking import StakingPane
from app.wallet.manager import LockState
from tests.gui.support import (
    PASSWORD,
    answer_confirmation,
    app_controller,
    click,
    create_wallet_through_wizard,
    type_into,
    until,
)

pytestmark = pytest.mark.slow  # starts the real app with an embedded devnet


async def test_create_fund_approve_lock_unlock(qtbot: QtBot, isolated_data_dir: Path) -> None:
    controller = app_controller(isolated_data_dir)
    try:
        controller.start()
        await create_wallet_through_wizard(qtbot, controller)
        main = controller.main
        assert main is not None and controller.services is not None
        address = controller.services.wallet.address
        assert main.status.address.toolTip() == address
        assert main.pane_keys() == ["dashboard", "staking", "settings"]

        dashboard = main.stack.widget(0)
        assert isinstance(dashboard, DashboardPane)
        click(qtbot, dashboard.faucet_button)
        await until(lambda: dashboard.mor.value.text() == "1,000 MOR", what="the faucet's MOR on the dashboard")
        assert dashboard.eth.value.text() == "10 ETH"

        main.show_pane("staking")
        staking = main.stack.currentWidget()
        assert isinstance(staking, StakingPane)
        staking.allowance_amount.edit.setText("25")
        click(qtbot, staking.approve_button)
        await answer_confirmation(qtbot, staking)
        await until(lambda: "25 MOR" in staking.allowance_text.text(), what="the approved allowance")

        main.lock_requested.emit()  # what Ctrl+L does (the shortcut itself is covered by test_shell)
        await until(lambda: controller.entry.unlock is not None and controller.entry.unlock.isVisible(), what="lock")
        assert not main.isVisible()
        assert controller.services.sender is None
        unlock = controller.entry.unlock
        assert unlock is not None
        type_into(unlock.password.edit, "not the password")
        click(qtbot, unlock.unlock_button)
        await until(lambda: unlock.password.error.isVisible(), what="the wrong-password message")
        assert "Wrong password" in unlock.password.error.text()
        unlock.password.edit.setText(PASSWORD)
        click(qtbot, unlock.unlock_button)
        await until(lambda: main.isVisible(), what="the main window after unlocking")
        assert controller.services.wallet.state is LockState.UNLOCKED
    finally:
        await controller.stop()


async def test_auto_lock_returns_to_the_unlock_screen_and_a_relaunch_starts_there(
    qtbot: QtBot, isolated_data_dir: Path
) -> None:
    controller = app_controller(isolated_data_dir)
    try:
        controller.start()
        await create_wallet_through_wizard(qtbot, controller)
        assert controller.services is not None
        controller.services.wallet.auto_lock_seconds = 0.2
        await until(lambda: controller.entry.unlock is not None and controller.entry.unlock.isVisible(),
                    what="the auto-lock")  # fmt: skip
    finally:
        await controller.stop()

    relaunched = app_controller(isolated_data_dir)
    try:
        relaunched.start()
        await until(lambda: relaunched.entry.unlock is not None and relaunched.entry.unlock.isVisible(),
                    what="the unlock screen on a later launch")  # fmt: skip
        assert relaunched.entry.wizard is None
    finally:
        await relaunched.stop()
