"""The provider dashboard: MOR-RPC server and self-checks, sessions served, earnings with Claim, reward-limit runway."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from app.bootstrap.services import Services
from app.chain.receipts import TxReceipt
from app.gui.async_slot import run_async
from app.gui.chat.receipt_text import mor
from app.gui.marketplace.quote import when
from app.gui.provider import actions
from app.gui.provider.status import ProviderStatus
from app.gui.tx_flow import StageProgress
from app.gui.widgets import Card, error_label, role_label
from app.router.provider.selfcheck import ProviderCheck

CheckRunner = Callable[[], Awaitable[list[ProviderCheck]]]


class ProviderDashboard(QWidget):
    """Four cards; figures come from ``show_status`` and ``show_checks``; Claim pays out every claimable session."""

    def __init__(self, services: Services, run_checks: CheckRunner | None = None,
                 server_state: Callable[[], str] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.run_checks = run_checks
        self.server_state = server_state
        self.status: ProviderStatus | None = None
        self.server_card = Card("MOR-RPC server and self-checks")
        self.server = role_label("", "", wrap=False)
        self.checks_label = role_label("Self-checks have not run yet.", "hint")
        self.checks_button = QPushButton("Run self-checks")
        self.checks_button.setEnabled(run_checks is not None)
        self.server_card.body.addWidget(self.server)
        self.server_card.body.addWidget(self.checks_label)
        self.server_card.body.addWidget(self.checks_button)
        self.sessions_card = Card("Sessions served")
        self.sessions = QLabel("—")
        self.sessions_card.body.addWidget(self.sessions)
        self.earnings_card = Card("Earnings")
        self.claimable = QLabel("—")
        self.claimed = role_label("—", "hint")
        self.claim_button = QPushButton("Claim")
        self.claim_button.setProperty("role", "primary")
        self.claim_button.setEnabled(False)
        self.claim_button.setToolTip("Sessions pay out after they end; an early close today pays after 00:00 UTC.")
        self.claim_progress = StageProgress()
        self.error = error_label()
        row = QHBoxLayout()
        row.addWidget(self.claimable, 1)
        row.addWidget(self.claim_button)
        self.earnings_card.body.addLayout(row)
        self.earnings_card.body.addWidget(self.claimed)
        self.earnings_card.body.addWidget(self.claim_progress)
        self.earnings_card.body.addWidget(self.error)
        self.limit_card = Card("Reward limit (365-day period)")
        self.limit_bar = QProgressBar()
        self.limit_bar.setRange(0, 1000)
        self.limit_text = role_label("", "hint")
        self.limit_card.body.addWidget(self.limit_bar)
        self.limit_card.body.addWidget(self.limit_text)
        grid = QGridLayout(self)
        grid.addWidget(self.server_card, 0, 0)
        grid.addWidget(self.sessions_card, 0, 1)
        grid.addWidget(self.earnings_card, 1, 0)
        grid.addWidget(self.limit_card, 1, 1)
        self.checks_button.clicked.connect(lambda: run_async(self.check_now, name="provider-checks",
                                                             busy=[self.checks_button], error_label=self.error))
        self.claim_button.clicked.connect(lambda: run_async(self.claim, name="provider-claim",
                                                            busy=[self.claim_button], error_label=self.error))

    def show_status(self, status: ProviderStatus) -> None:
        """Fill every card from a fresh status read."""
        self.status = status
        p, e = status.provider, status.earnings
        state = self.server_state() if self.server_state is not None else "not started by this app"
        self.server.setText(f"{'● registered' if status.registered else '○ not registered'} · endpoint "
                            f"{p.endpoint or '—'} · server {state}")
        self.sessions.setText(f"{e.active_sessions} active · {e.closed_sessions} closed")
        self.claimable.setText(f"Claimable now: {mor(e.claimable)}")
        self.claimed.setText(f"Claimed so far: {mor(e.claimed)}")
        self.claim_button.setEnabled(e.claimable > 0)
        fraction = e.period_earned / e.period_limit if e.period_limit else 0.0
        self.limit_bar.setValue(int(min(1.0, fraction) * 1000))
        self.limit_bar.setFormat(f"{fraction:.0%} of your stake earned")
        self.limit_text.setText(
            f"Earned {mor(e.period_earned)} of {mor(e.period_limit)} (your stake) this period, which ends "
            f"{when(e.period_end)}. Room left: {mor(e.runway)}; stake more to earn more.")

    def show_checks(self, checks: Sequence[ProviderCheck]) -> None:
        """One line per self-check: ✓/✗, name, detail."""
        self.checks_label.setText("\n".join(f"{'✓' if c.ok else '✗'} {c.name}: {c.detail}" for c in checks))
        self.checks_label.setProperty("role", "ok" if all(c.ok for c in checks) else "error")
        self.checks_label.style().polish(self.checks_label)

    async def check_now(self) -> list[ProviderCheck]:
        """Run the node's self-checks and show them."""
        if self.run_checks is None:
            return []
        checks = await self.run_checks()
        self.show_checks(checks)
        return checks

    async def claim(self) -> list[TxReceipt]:
        """Confirm once, then claim each claimable session; the caller refreshes afterwards."""
        if self.status is None or self.services.diamond is None:
            return []
        e = self.status.earnings
        plan = actions.claim_plan(self.services, e.claimable_sessions, e.claimable)
        diamond = self.services.diamond
        receipts: list[TxReceipt] = []

        async def send_all() -> TxReceipt:
            for session_id in e.claimable_sessions:
                receipts.append(await diamond.claim_for_provider(session_id))
            return receipts[-1]

        await actions.transact(self, self.services, self.claim_progress, plan, send_all)
        return receipts
