"""The staking pane, "where is my MOR": wallet, sessions, on hold (Withdraw), provider stake (Claim), allowance."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTableWidgetItem,
    QWidget,
)

from app.bootstrap.services import Services
from app.chain import diamond_abi as abi
from app.chain.receipts import TxReceipt
from app.errors import ChainError
from app.gui.async_slot import run_async
from app.gui.formatting import amount, utc_time
from app.gui.inputs import InputError, parse_amount
from app.gui.mor_picture import MorPicture
from app.gui.tx_flow import StageProgress, TxPlan, run_transaction
from app.gui.wallet_model import WalletModel
from app.gui.widgets import Card, Field, data_table, error_label, role_label, scroll_page, show_error

WITHDRAW_ITERATIONS = 255

ALLOWANCE_TEXT = (
    "Opening a session moves its stake from your wallet into the Morpheus contract. The allowance is how much MOR "
    "the contract may take for that; approving sends no MOR anywhere and can be lowered again at any time."
)


class StakingPane(QWidget):
    """A line for every place MOR can be, and the buttons that move it back to the wallet."""

    def __init__(self, services: Services, model: WalletModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.model = model
        layout = scroll_page(self)
        layout.addWidget(role_label("Where is my MOR", "title", wrap=False))
        self.error = error_label()
        layout.addWidget(self.error)

        summary = Card("All your MOR")
        self.summary = QGridLayout()
        summary.body.addLayout(self.summary)
        self.rows: dict[str, QLabel] = {}
        for i, (key, text) in enumerate((
            ("wallet", "In your wallet"), ("sessions", "Escrowed in open sessions"),
            ("available", "On hold, released: withdraw now"), ("locked", "On hold, still locked"),
            ("provider", "Provider stake"), ("claimable", "Provider earnings to claim"), ("total", "Total"),
        )):  # fmt: skip
            name = QLabel(text)
            value = QLabel("—")
            value.setAlignment(Qt.AlignmentFlag.AlignRight)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            if key == "total":
                name.setStyleSheet("font-weight: 600")
                value.setStyleSheet("font-weight: 600")
            self.summary.addWidget(name, i, 0)
            self.summary.addWidget(value, i, 1)
            self.rows[key] = value
        layout.addWidget(summary)

        sessions = Card("Escrowed per open session")
        self.sessions = data_table(["Session", "Provider", "Stake", "Ends at", "Refund at the end"])
        sessions.body.addWidget(self.sessions)
        layout.addWidget(sessions)

        row = QHBoxLayout()
        hold = Card("On hold after early closes")
        hold.body.addWidget(role_label(
            "Closing a session before its end keeps part of the stake until the next UTC midnight.", "hint"))
        self.hold_text = role_label()
        self.withdraw_button = QPushButton("Withdraw")
        self.withdraw_button.setProperty("role", "primary")
        self.withdraw_button.clicked.connect(self.withdraw)
        self.withdraw_progress, self.withdraw_error = StageProgress(), error_label()
        for widget in (self.hold_text, self.withdraw_button, self.withdraw_progress, self.withdraw_error):
            hold.body.addWidget(widget)
        row.addWidget(hold)

        provider = Card("As a provider")
        self.provider_text = role_label()
        self.claim_button = QPushButton("Claim")
        self.claim_button.setProperty("role", "primary")
        self.claim_button.clicked.connect(self.claim)
        self.claim_progress, self.claim_error = StageProgress(), error_label()
        for widget in (self.provider_text, self.claim_button, self.claim_progress, self.claim_error):
            provider.body.addWidget(widget)
        row.addWidget(provider)
        layout.addLayout(row)

        allowance = Card("MOR allowance for sessions")
        allowance.body.addWidget(role_label(ALLOWANCE_TEXT, "hint"))
        self.allowance_text = role_label()
        allowance.body.addWidget(self.allowance_text)
        approve_row = QHBoxLayout()
        self.allowance_amount = Field("New allowance (MOR)", "e.g. 50")
        self.approve_button = QPushButton("Approve…")
        self.approve_button.clicked.connect(self.approve)
        approve_row.addWidget(self.allowance_amount, 1)
        approve_row.addWidget(self.approve_button, 0, Qt.AlignmentFlag.AlignBottom)
        allowance.body.addLayout(approve_row)
        self.approve_progress, self.approve_error = StageProgress(), error_label()
        allowance.body.addWidget(self.approve_progress)
        allowance.body.addWidget(self.approve_error)
        layout.addWidget(allowance)
        layout.addStretch(1)

        self.withdraw_button.setEnabled(False)
        self.claim_button.setEnabled(False)
        model.picture_changed.connect(self.show_picture)
        model.failed.connect(self._show_failure)

    def _show_failure(self, message: str) -> None:
        show_error(self.error, message)

    def show_picture(self, p: MorPicture) -> None:
        """Fill every line from a new MorPicture."""
        show_error(self.error, None)
        release = f" (released {utc_time(p.release_at)})" if p.release_at else ""
        values = {
            "wallet": amount(p.mor, "MOR"), "sessions": amount(p.staked_in_sessions, "MOR"),
            "available": amount(p.on_hold_available, "MOR"), "locked": amount(p.on_hold_locked, "MOR") + release,
            "provider": amount(p.provider_stake, "MOR"), "claimable": amount(p.claimable, "MOR"),
            "total": amount(p.total, "MOR"),
        }  # fmt: skip
        for key, text in values.items():
            self.rows[key].setText(text)
        self.sessions.setRowCount(len(p.sessions))
        for row, s in enumerate(p.sessions):
            cells = ["0x" + s.id.hex()[:10] + "…", s.provider, amount(s.stake, "MOR"), utc_time(s.ends_at),
                     amount(s.expected_refund, "MOR")]  # fmt: skip
            for col, text in enumerate(cells):
                self.sessions.setItem(row, col, QTableWidgetItem(text))
        if p.on_hold_available or p.on_hold_locked:
            self.hold_text.setText(
                f"{amount(p.on_hold_available, 'MOR')} can be withdrawn now; "
                f"{amount(p.on_hold_locked, 'MOR')} is locked{release}."
            )
        else:
            self.hold_text.setText("Nothing is on hold.")
        self.withdraw_button.setEnabled(p.on_hold_available > 0)
        if p.provider_stake:
            self.provider_text.setText(
                f"Stake {amount(p.provider_stake, 'MOR')}. Earnings ready to claim: {amount(p.claimable, 'MOR')} "
                f"from {len(p.claimable_sessions)} session(s)."
            )
        else:
            self.provider_text.setText("This wallet is not a registered provider.")
        self.claim_button.setEnabled(p.claimable > 0)
        self.allowance_text.setText(f"The Morpheus contract may currently take {amount(p.allowance, 'MOR')}.")

    # -- transactions ------------------------------------------------------------------------------------------
    def _run(
        self, plan: TxPlan, send: Callable[[], Awaitable[TxReceipt]], progress: StageProgress, error: QLabel,
        button: QPushButton, name: str,
    ) -> None:  # fmt: skip
        async def run() -> None:
            if await run_transaction(self, self.services, plan, send, progress) is not None:
                await self.model.refresh()

        run_async(run, name=name, busy=[button], error_label=error)

    def _diamond_address(self) -> str:
        if self.services.network is None:
            raise ChainError("The chain is not connected.")
        return self.services.network.diamond

    def withdraw(self) -> None:
        """Withdraw every on-hold stake that has been released (``withdrawUserStakes``)."""
        picture, address = self.model.picture, self.model.address
        if picture is None or address is None or self.services.diamond is None:
            return
        plan = TxPlan(
            "Withdraw released stakes",
            "Moves the MOR released from hold (after early session closes) back into your wallet.",
            (("Withdrawn", amount(picture.on_hold_available, "MOR")),),
            self._diamond_address(), abi.WITHDRAW_USER_STAKES.encode(address, WITHDRAW_ITERATIONS),
            stage="withdrawing MOR…",
        )  # fmt: skip
        diamond = self.services.diamond
        self._run(plan, lambda: diamond.withdraw_user_stakes(address, WITHDRAW_ITERATIONS), self.withdraw_progress,
                  self.withdraw_error, self.withdraw_button, "withdraw stakes")  # fmt: skip

    def claim(self) -> None:
        """Claim the provider's earnings, one ``claimForProvider`` per session with something to claim."""
        picture = self.model.picture
        if picture is None or not picture.claimable_sessions or self.services.diamond is None:
            return
        ids = picture.claimable_sessions
        count = f"{len(ids)} transaction(s), one per session" if len(ids) > 1 else "one transaction"
        plan = TxPlan(
            "Claim provider earnings",
            f"Pays your earnings for finished sessions into your wallet ({count}; the fee shown is for the first).",
            (("Claimed (estimate)", amount(picture.claimable, "MOR")),),
            self._diamond_address(), abi.CLAIM_FOR_PROVIDER.encode(ids[0]), stage="claiming earnings…",
        )  # fmt: skip
        diamond = self.services.diamond

        async def claim_all() -> TxReceipt:
            receipt = None
            for session_id in ids:
                receipt = await diamond.claim_for_provider(session_id)
            assert receipt is not None
            return receipt

        self._run(plan, claim_all, self.claim_progress, self.claim_error, self.claim_button, "claim earnings")

    def approve(self) -> None:
        """Set the allowance to the amount typed (``approve``), after explaining and confirming it."""
        self.allowance_amount.set_error(None)
        try:
            wei = parse_amount(self.allowance_amount.text(), "MOR", allow_zero=True)
        except InputError as e:
            self.allowance_amount.set_error(e.user_message)
            return
        if self.services.token is None or self.services.network is None:
            show_error(self.approve_error, "The chain is not connected yet.")
            return
        spender, token = self.services.network.diamond, self.services.token
        current = self.model.picture.allowance if self.model.picture else 0
        plan = TxPlan(
            "Approve MOR for sessions",
            f"Lets the Morpheus contract ({spender}) take up to this much MOR from your wallet when you open "
            "sessions. No MOR moves now.",
            (("Allowance now", amount(current, "MOR")), ("New allowance", amount(wei, "MOR"))),
            token.address, abi.APPROVE.encode(spender, wei), stage="approving MOR…",
        )  # fmt: skip
        self._run(plan, lambda: token.approve(spender, wei), self.approve_progress, self.approve_error,
                  self.approve_button, "approve MOR")  # fmt: skip
