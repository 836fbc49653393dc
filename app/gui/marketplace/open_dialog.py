"""The open-session dialog: duration and payment mode with a cost and refund preview, then staged progress."""

from __future__ import annotations

import asyncio

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QRadioButton,
    QSlider,
    QVBoxLayout,
    QWidget,
)

from app.chain.units import format_units
from app.errors import AppError
from app.gui.async_slot import run_async
from app.gui.chat.receipt_text import mor, short_hex
from app.gui.marketplace.market_data import BidRow
from app.gui.marketplace.quote import MIN_SESSION_S, QuoteInputs, SessionQuote, quote, when
from app.gui.marketplace.source import SessionOpener
from app.gui.widgets import error_label, role_label
from app.storage.records import CachedSession

PRESETS = (("5 min", 300), ("15 min", 900), ("1 hour", 3600), ("4 hours", 14_400), ("24 hours", 86_400))
STAGES = ("approve", "open", "confirmed")


def duration_text(seconds: int) -> str:
    """``1 h 05 min`` / ``15 min``."""
    hours, rest = divmod(seconds, 3600)
    return f"{hours} h {rest // 60:02d} min" if hours else f"{rest // 60} min"


class OpenSessionDialog(QDialog):
    """Shows exactly what opening costs before anything is signed; Open runs approve → open → confirmed.

    Signals:
        opened(object): the CachedSession once it is confirmed on chain
    """

    opened = Signal(object)

    def __init__(self, model_name: str, row: BidRow, inputs: QuoteInputs, opener: SessionOpener,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Open a session: {model_name}")
        self.setMinimumWidth(520)
        self.row, self.inputs, self.opener = row, inputs, opener
        self.fee_wei: int | None = None
        self.task: asyncio.Task[None] | None = None
        layout = QVBoxLayout(self)
        layout.addWidget(role_label(f"{model_name} from provider {short_hex(row.provider)}", "title"))
        layout.addWidget(role_label(f"{mor(row.price_per_second, 8)} per second · {mor(row.price_per_hour, 4)} per "
                                    f"hour · rank {row.rank}", "hint"))
        self.stake_mode = QRadioButton("Stake mode: lock MOR as collateral, get it back")
        self.direct_mode = QRadioButton("Direct pay: pay the provider from the MOR you send")
        self.stake_mode.setChecked(True)
        self._modes = QButtonGroup(self)
        self._modes.addButton(self.stake_mode)
        self._modes.addButton(self.direct_mode)
        layout.addWidget(self.stake_mode)
        layout.addWidget(self.direct_mode)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(MIN_SESSION_S // 60, max(MIN_SESSION_S, inputs.max_session_s) // 60)
        self.slider.setValue(min(60, self.slider.maximum()))
        self.duration_label = QLabel()
        slider_row = QHBoxLayout()
        slider_row.addWidget(QLabel("Duration:"))
        slider_row.addWidget(self.slider, 1)
        slider_row.addWidget(self.duration_label)
        layout.addLayout(slider_row)
        presets = QHBoxLayout()
        self.preset_buttons: list[QPushButton] = []
        for label, seconds in PRESETS:
            if seconds > inputs.max_session_s:
                continue
            button = QPushButton(label)
            button.clicked.connect(lambda _c=False, s=seconds: self.slider.setValue(s // 60))
            presets.addWidget(button)
            self.preset_buttons.append(button)
        layout.addLayout(presets)
        form = QFormLayout()
        self.amount_name = QLabel("Stake:")
        self.amount = QLabel()
        self.ends = QLabel()
        self.refund_expiry = QLabel()
        self.refund_early = QLabel()
        self.refund_early.setWordWrap(True)
        self.provider_cost = QLabel()
        self.fee = QLabel("estimating…")
        form.addRow(self.amount_name, self.amount)
        form.addRow("Ends (estimated):", self.ends)
        form.addRow("Back to you on natural expiry:", self.refund_expiry)
        form.addRow("If you close at half time:", self.refund_early)
        form.addRow("Provider earns:", self.provider_cost)
        form.addRow("Network fee (at most):", self.fee)
        layout.addLayout(form)
        self.progress = role_label("", "hint")
        layout.addWidget(self.progress)
        self.error = error_label()
        layout.addWidget(self.error)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.cancel_button = QPushButton("Cancel")
        self.open_button = QPushButton("Open session")
        self.open_button.setProperty("role", "primary")
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.open_button)
        layout.addLayout(buttons)
        self.cancel_button.clicked.connect(self.reject)
        self.open_button.clicked.connect(self.start_open)
        self.slider.valueChanged.connect(self.update_preview)
        self._modes.buttonToggled.connect(lambda *_: self.update_preview())
        self.stages_done: list[str] = []
        self.update_preview()

    @property
    def duration_s(self) -> int:
        return self.slider.value() * 60

    @property
    def direct(self) -> bool:
        return self.direct_mode.isChecked()

    def current_quote(self) -> SessionQuote:
        """The preview for the chosen duration and mode."""
        return quote(self.inputs, self.row.price_per_second, self.duration_s, direct=self.direct)

    def update_preview(self) -> None:
        """Recompute every figure (called on each slider or mode change)."""
        q = self.current_quote()
        self.duration_label.setText(duration_text(q.duration_s))
        self.amount_name.setText("Cost (prepaid):" if q.direct else "Stake (returned):")
        self.amount.setText(mor(q.amount, 6))
        self.ends.setText(when(q.ends_at))
        self.refund_expiry.setText(mor(q.refund_at_expiry, 6) + ("" if q.direct else " (the whole stake)"))
        self.refund_early.setText(
            f"{mor(q.refund_early_now, 6)} at once, {mor(q.on_hold_early, 6)} on hold until "
            f"{when(q.hold_release_at)} (00:00 UTC)")
        self.provider_cost.setText(mor(q.provider_cost, 6) + (" from your prepayment" if q.direct
                                                             else " from the compute pool, not your stake"))

    async def estimate(self) -> None:
        """Fill in the network fee estimate."""
        try:
            self.fee_wei = await self.opener.estimate_fee_wei()
        except AppError as e:  # an unknown fee must not block the preview
            self.fee.setText(f"unknown: {e.user_message}")
            return
        self.fee.setText("unknown (wallet locked)" if self.fee_wei is None
                         else f"≈ {format_units(self.fee_wei, 'ETH')} (approve + open)")

    def _stage(self, text: str) -> None:
        self.stages_done.append(text)
        self.progress.setText(" → ".join(self.stages_done))

    def start_open(self) -> None:
        """Run the opening flow; the controls stay disabled until it ends."""
        busy = [self.open_button, self.slider, self.stake_mode, self.direct_mode, *self.preset_buttons]
        self.stages_done.clear()
        self.task = run_async(self.open_session, name="open-session", busy=busy, error_label=self.error)

    async def open_session(self) -> CachedSession:
        """approve → open → confirmed; emits ``opened`` and closes the dialog."""
        session = await self.opener.open(self.row, self.current_quote().duration_s, self.direct, self._stage)
        self.opened.emit(session)
        self.accept()
        return session
