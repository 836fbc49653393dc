"""The dashboard against a real devnet: balances, faucet, send with confirmation, inline errors, QR, history."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QGuiApplication
from pytestqt.qtbot import QtBot

from app.gui.dashboard import DashboardPane
from app.gui.tx_flow import ConfirmDialog
from app.gui.wallet_model import WalletModel
from tests.gui.support import answer_confirmation, click, running_services, type_into, until

pytestmark = pytest.mark.slow  # each test starts a real devnet (~5 s)

RECIPIENT = "0x000000000000000000000000000000000000dEaD"


async def test_shows_balances_receive_address_and_qr(qtbot: QtBot, isolated_data_dir: Path) -> None:
    async with running_services(isolated_data_dir) as services:
        model = WalletModel(services)
        pane = DashboardPane(services, model)
        qtbot.addWidget(pane)
        pane.show()
        await model.refresh()
        assert pane.mor.value.text() == "100 MOR"
        assert pane.eth.value.text() == "1 ETH"
        assert pane.staked.value.text() == "0 MOR"
        assert pane.receive_address.text() == services.wallet.address
        assert not pane.qr.pixmap().isNull()
        assert pane.history.rowCount() == 1
        assert pane.history.item(0, 2).text() == "+100 MOR"
        click(qtbot, pane.copy_button)
        assert QGuiApplication.clipboard().text() == services.wallet.address


async def test_faucet_button_funds_the_wallet(qtbot: QtBot, isolated_data_dir: Path) -> None:
    async with running_services(isolated_data_dir, funded=False) as services:
        model = WalletModel(services)
        pane = DashboardPane(services, model)
        qtbot.addWidget(pane)
        pane.show()
        await model.refresh()
        assert pane.mor.value.text() == "0 MOR"
        assert pane.faucet_card.isVisible()
        click(qtbot, pane.faucet_button)
        await until(lambda: pane.mor.value.text() == "1,000 MOR", what="the faucet's MOR")
        assert pane.eth.value.text() == "10 ETH"


async def test_bad_send_input_is_refused_inline_and_nothing_is_sent(qtbot: QtBot, isolated_data_dir: Path) -> None:
    async with running_services(isolated_data_dir) as services:
        model = WalletModel(services)
        pane = DashboardPane(services, model)
        qtbot.addWidget(pane)
        pane.show()
        await model.refresh()
        type_into(pane.send_to.edit, "0x1234")
        type_into(pane.send_amount.edit, "abc")
        click(qtbot, pane.send_button)
        assert "not an address" in pane.send_to.error.text()
        assert "not a number" in pane.send_amount.error.text()
        pane.send_to.edit.setText(RECIPIENT)
        pane.send_amount.edit.setText("101")
        click(qtbot, pane.send_button)
        assert "more than the 100 MOR available" in pane.send_amount.error.text()
        assert not pane.findChildren(ConfirmDialog)
        assert await services.token.balance_of(RECIPIENT) == 0  # type: ignore[union-attr]


async def test_send_mor_after_confirmation_updates_balance(qtbot: QtBot, isolated_data_dir: Path) -> None:
    async with running_services(isolated_data_dir) as services:
        model = WalletModel(services)
        pane = DashboardPane(services, model)
        qtbot.addWidget(pane)
        pane.show()
        await model.refresh()
        pane.send_to.edit.setText(RECIPIENT)
        pane.send_amount.edit.setText("2.5")
        click(qtbot, pane.send_button)
        dialog = await answer_confirmation(qtbot, pane)
        assert "2.5 MOR" in dialog.description.text()
        assert dialog.fee.text().endswith("ETH")
        await until(lambda: pane.mor.value.text() == "97.5 MOR", what="the balance after sending")
        assert await services.token.balance_of(RECIPIENT) == 25 * 10**17  # type: ignore[union-attr]
        assert "done in block" in pane.send_progress.label.text()


async def test_declining_the_confirmation_sends_nothing(qtbot: QtBot, isolated_data_dir: Path) -> None:
    async with running_services(isolated_data_dir) as services:
        model = WalletModel(services)
        pane = DashboardPane(services, model)
        qtbot.addWidget(pane)
        pane.show()
        await model.refresh()
        pane.send_token.setCurrentText("ETH")
        pane.send_to.edit.setText(RECIPIENT)
        pane.send_amount.edit.setText("0.1")
        click(qtbot, pane.send_button)
        await answer_confirmation(qtbot, pane, accept=False)
        await until(lambda: pane.send_button.isEnabled(), what="the send flow to end")
        assert pane.send_progress.label.text().endswith("cancelled")
        assert await services.chain.get_balance(RECIPIENT) == 0  # type: ignore[union-attr]
