"""The dashboard: balances, MOR staked and on hold, send and receive (with QR), open sessions and history."""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QWidget,
)

from app.bootstrap.services import Services
from app.chain import diamond_abi as abi
from app.errors import AppError, ChainError
from app.gui.async_slot import run_async
from app.gui.formatting import amount, countdown, utc_time
from app.gui.history import HistoryEntry
from app.gui.inputs import InputError, parse_address, parse_amount
from app.gui.mor_picture import MorPicture
from app.gui.qr import qr_pixmap
from app.gui.tx_flow import StageProgress, TxPlan, run_transaction
from app.gui.wallet_model import WalletModel
from app.gui.widgets import Card, Field, data_table, error_label, role_label, scroll_page, show_error

FAUCET_ETH = 10 * 10**18
FAUCET_MOR = 1_000 * 10**18


class Figure(Card):
    """A card with one big number and a small line under it."""

    def __init__(self, title: str) -> None:
        super().__init__(title)
        self.value = role_label("—", "title", wrap=False)
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.detail = role_label("", "hint")
        self.body.addWidget(self.value)
        self.body.addWidget(self.detail)

    def set(self, value: str, detail: str = "") -> None:
        self.value.setText(value)
        self.detail.setText(detail)


class DashboardPane(QWidget):
    """Everything about the wallet at a glance; refreshed by the shared WalletModel on new blocks."""

    def __init__(self, services: Services, model: WalletModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.model = model
        layout = scroll_page(self)
        header = QHBoxLayout()
        header.addWidget(role_label("Dashboard", "title", wrap=False))
        header.addStretch(1)
        self.status = role_label("", "hint", wrap=False)
        header.addWidget(self.status)
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.clicked.connect(self.refresh)
        header.addWidget(self.refresh_button)
        layout.addLayout(header)
        self.error = error_label()
        layout.addWidget(self.error)

        figures = QGridLayout()
        self.mor, self.eth = Figure("MOR in wallet"), Figure("ETH (pays network fees)")
        self.staked, self.on_hold = Figure("MOR staked in open sessions"), Figure("MOR on hold")
        self.provider = Figure("Provider stake")
        for i, figure in enumerate((self.mor, self.eth, self.staked, self.on_hold, self.provider)):
            figures.addWidget(figure, 0, i)
        layout.addLayout(figures)

        row = QHBoxLayout()
        row.addWidget(self._send_card(), 3)
        row.addWidget(self._receive_card(), 2)
        layout.addLayout(row)

        self.faucet_card = Card("Devnet faucet")
        self.faucet_card.body.addWidget(role_label(
            "This is the local test chain: get free test ETH and MOR for this wallet.", "hint"))
        self.faucet_button = QPushButton(f"Get {amount(FAUCET_ETH, 'ETH')} and {amount(FAUCET_MOR, 'MOR')}")
        self.faucet_button.clicked.connect(self.fund_from_faucet)
        self.faucet_error = error_label()
        self.faucet_card.body.addWidget(self.faucet_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.faucet_card.body.addWidget(self.faucet_error)
        self.faucet_card.setVisible(services.devnet is not None)
        layout.addWidget(self.faucet_card)

        sessions_card = Card("Open sessions")
        self.sessions = data_table(["Session", "Provider", "Stake", "Ends", "Time left"])
        sessions_card.body.addWidget(self.sessions)
        layout.addWidget(sessions_card)
        history_card = Card("History (MOR transfers and sessions, from chain logs)")
        self.history = data_table(["Block", "What", "Amount", "Transaction"])
        history_card.body.addWidget(self.history)
        layout.addWidget(history_card)

        self._clock_offset = 0.0
        self._picture: MorPicture | None = None
        self.countdown_timer = QTimer(self)
        self.countdown_timer.setInterval(1000)
        self.countdown_timer.timeout.connect(self._tick)
        self.countdown_timer.start()
        model.picture_changed.connect(self.show_picture)
        model.history_changed.connect(self.show_history)
        model.failed.connect(self._show_failure)

    # -- cards -------------------------------------------------------------------------------------------------
    def _send_card(self) -> Card:
        card = Card("Send")
        self.send_to = Field("To address", "0x…")
        amount_row = QHBoxLayout()
        self.send_amount = Field("Amount", "0.0")
        self.send_token = QComboBox()
        self.send_token.addItems(["MOR", "ETH"])
        amount_row.addWidget(self.send_amount, 1)
        amount_row.addWidget(self.send_token, 0, Qt.AlignmentFlag.AlignBottom)
        self.send_button = QPushButton("Send…")
        self.send_button.setProperty("role", "primary")
        self.send_button.clicked.connect(self.send)
        self.send_error = error_label()
        self.send_progress = StageProgress()
        card.body.addWidget(self.send_to)
        card.body.addLayout(amount_row)
        card.body.addWidget(self.send_button, 0, Qt.AlignmentFlag.AlignLeft)
        card.body.addWidget(self.send_progress)
        card.body.addWidget(self.send_error)
        return card

    def _receive_card(self) -> Card:
        card = Card("Receive")
        self.receive_address = QLabel("—")
        self.receive_address.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.receive_address.setWordWrap(True)
        self.copy_button = QPushButton("Copy address")
        self.copy_button.clicked.connect(self._copy)
        self.qr = QLabel()
        self.qr.setAlignment(Qt.AlignmentFlag.AlignCenter)
        card.body.addWidget(self.receive_address)
        card.body.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignLeft)
        card.body.addWidget(self.qr)
        return card

    # -- rendering ---------------------------------------------------------------------------------------------
    def show_picture(self, picture: MorPicture) -> None:
        """Fill the figures, the receive card and the sessions table from a new MorPicture."""
        show_error(self.error, None)
        self._picture = picture
        self._clock_offset = picture.chain_time - time.time()
        self.mor.set(amount(picture.mor, "MOR"), f"allowance for sessions: {amount(picture.allowance, 'MOR')}")
        self.eth.set(amount(picture.eth, "ETH"), "needed for every transaction" if picture.eth == 0 else "")
        self.staked.set(amount(picture.staked_in_sessions, "MOR"), f"{len(picture.sessions)} open session(s)")
        held = picture.on_hold_available + picture.on_hold_locked
        release = f"locked until {utc_time(picture.release_at)}" if picture.release_at else ""
        ready = f"{amount(picture.on_hold_available, 'MOR')} withdrawable now" if picture.on_hold_available else ""
        self.on_hold.set(amount(held, "MOR"), "; ".join(x for x in (ready, release) if x))
        self.provider.set(
            amount(picture.provider_stake, "MOR") if picture.provider_stake else "none",
            f"claimable: {amount(picture.claimable, 'MOR')}" if picture.provider_stake else "not a provider",
        )
        if self.receive_address.text() != picture.address:
            self.receive_address.setText(picture.address)
            self.qr.setPixmap(qr_pixmap(picture.address, 4))
        self.sessions.setRowCount(len(picture.sessions))
        for row, s in enumerate(picture.sessions):
            cells = ["0x" + s.id.hex()[:10] + "…", s.provider, amount(s.stake, "MOR"), utc_time(s.ends_at), ""]
            for col, text in enumerate(cells):
                self.sessions.setItem(row, col, QTableWidgetItem(text))
        self._tick()
        self.status.setText(f"updated at chain time {utc_time(picture.chain_time)}")

    def _show_failure(self, message: str) -> None:
        show_error(self.error, message)

    def show_history(self, entries: list[HistoryEntry]) -> None:
        """Fill the history table."""
        self.history.setRowCount(len(entries))
        for row, e in enumerate(entries):
            for col, text in enumerate((f"{e.block:,}", e.what, e.amount, e.tx_hash[:18] + "…")):
                item = QTableWidgetItem(text)
                item.setToolTip(e.tx_hash if col == 3 else text)
                self.history.setItem(row, col, item)

    def _tick(self) -> None:
        if self._picture is None:
            return
        now = time.time() + self._clock_offset
        for row, s in enumerate(self._picture.sessions):
            item = self.sessions.item(row, 4)
            if item is not None:
                item.setText(countdown(s.ends_at - now))

    def _copy(self) -> None:
        if self.model.address:
            QGuiApplication.clipboard().setText(self.model.address)
            self.copy_button.setText("Copied ✓")
            # The timer is tied to the button, so it never fires on a deleted widget.
            QTimer.singleShot(1500, self.copy_button, lambda: self.copy_button.setText("Copy address"))

    # -- actions -----------------------------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload balances and history now."""
        run_async(self.model.refresh, name="dashboard refresh", busy=[self.refresh_button], error_label=self.error)

    def send_plan(self) -> tuple[TxPlan, str, int, str] | None:
        """Validate the send form; inline messages on bad fields and None (nothing is sent)."""
        self.send_to.set_error(None)
        self.send_amount.set_error(None)
        symbol = self.send_token.currentText()
        picture = self.model.picture
        available = None if picture is None else (picture.mor if symbol == "MOR" else picture.eth)
        to = wei = None
        try:
            to = parse_address(self.send_to.text())
        except InputError as e:
            self.send_to.set_error(e.user_message)
        try:
            wei = parse_amount(self.send_amount.text(), symbol, maximum=available)
        except InputError as e:
            self.send_amount.set_error(e.user_message)
        if to is None or wei is None or self.services.network is None:
            return None
        words = f"Sends {amount(wei, symbol)} from your wallet to {to}. Transfers cannot be undone."
        if symbol == "MOR":
            plan = TxPlan("Send MOR", words, (("Amount", amount(wei, symbol)), ("To", to)), self.services.network.mor,
                          abi.TRANSFER.encode(to, wei), stage="sending MOR…")  # fmt: skip
        else:
            plan = TxPlan("Send ETH", words, (("Amount", amount(wei, symbol)), ("To", to)), to, b"", wei,
                          stage="sending ETH…")  # fmt: skip
        return plan, to, wei, symbol

    def send(self) -> None:
        """Confirm and send the transfer typed in the Send card."""
        prepared = self.send_plan()
        if prepared is None:
            return
        plan, to, wei, symbol = prepared

        async def transfer():  # type: ignore[no-untyped-def]
            if symbol == "MOR":
                if self.services.token is None:
                    raise ChainError("The chain is not connected.")
                return await self.services.token.transfer(to, wei)
            if self.services.sender is None:
                raise ChainError("Unlock the wallet to send.")
            return await self.services.sender.transfer_eth(to, wei)

        async def run() -> None:
            if await run_transaction(self, self.services, plan, transfer, self.send_progress) is not None:
                self.send_amount.edit.clear()
                await self.model.refresh()

        run_async(run, name="send", busy=[self.send_button], error_label=self.send_error)

    def fund_from_faucet(self) -> None:
        """Devnet only: ask the faucet for test ETH and MOR."""

        async def run() -> None:
            devnet, address = self.services.devnet, self.model.address
            if devnet is None or address is None:
                raise AppError("The faucet exists only on the local devnet, for an unlocked wallet.")
            await devnet.faucet.fund(address, FAUCET_ETH, FAUCET_MOR)
            await self.model.refresh()

        run_async(run, name="faucet", busy=[self.faucet_button], error_label=self.faucet_error)
