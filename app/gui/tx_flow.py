"""Every transaction goes through here: a plan in words, a fee estimate, a confirmation dialog, staged progress."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.bootstrap.services import Services
from app.chain.fees import with_gas_margin
from app.chain.receipts import TxReceipt
from app.chain.units import format_units
from app.errors import AppError, ChainError
from app.gui.widgets import error_label, role_label, show_error

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TxPlan:
    """A transaction described for a person: what it does, the amounts involved, and the raw call to estimate."""

    title: str
    description: str
    amounts: tuple[tuple[str, str], ...]
    to: str
    data: bytes
    value: int = 0
    stage: str = "sending…"  # e.g. "approving MOR…"


async def estimate_fee(services: Services, plan: TxPlan) -> int:
    """The most this transaction may cost in ETH wei: the gas limit it will be sent with × the fee cap.

    A call to the Diamond gets its limit from the Diamond itself (:meth:`Diamond.gas_limit`, the one its writes
    use, headroom included); anything else is sent by TxSender with the estimate plus the sender's margin.
    A transaction that would revert raises its decoded reason here, before anything is signed.
    """
    sender = services.sender
    if services.chain is None or sender is None:
        raise ChainError("Unlock the wallet to send transactions.")
    diamond = services.diamond
    context = plan.title.lower()
    if diamond is not None and plan.value == 0 and plan.to.lower() == diamond.address.lower():
        gas = await diamond.gas_limit(plan.data, purpose=context)
    else:
        tx = {"from": sender.address, "to": plan.to, "data": plan.data, "value": plan.value}
        gas = with_gas_margin(await services.chain.estimate_gas(tx, context=context), sender.gas_margin_percent)
    fees = await sender.current_fees()
    return gas * fees.cap


class ConfirmDialog(QDialog):
    """Shows a TxPlan and its estimated fee; Confirm is enabled only once the fee is known and the tx would succeed.

    Opened with ``open()`` (never ``exec()``): the loop keeps running while the person reads.
    """

    def __init__(self, plan: TxPlan, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Confirm: {plan.title}")
        self.setMinimumWidth(460)
        layout = QVBoxLayout(self)
        layout.addWidget(role_label(plan.title, "title"))
        self.description = role_label(plan.description)
        layout.addWidget(self.description)
        form = QFormLayout()
        for name, amount in plan.amounts:
            value = QLabel(amount)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            form.addRow(f"{name}:", value)
        self.fee = QLabel("estimating…")
        self.fee_wei: int | None = None  # the figure shown, in wei (None until estimated)
        form.addRow("Estimated network fee (at most):", self.fee)
        layout.addLayout(form)
        self.error = error_label()
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox()
        self.confirm_button = QPushButton("Confirm")
        self.confirm_button.setProperty("role", "primary")
        self.confirm_button.setEnabled(False)
        self.buttons.addButton(self.confirm_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

    def set_fee(self, fee_wei: int) -> None:
        """Show the fee and allow confirming."""
        self.fee_wei = fee_wei
        self.fee.setText(format_units(fee_wei, "ETH"))
        self.confirm_button.setEnabled(True)

    def set_failure(self, message: str) -> None:
        """The transaction would fail (or the fee is unknown): say why and keep Confirm disabled."""
        self.fee.setText("—")
        show_error(self.error, message)
        self.confirm_button.setEnabled(False)


class StageProgress(QWidget):
    """One line of progress: "approving MOR… → waiting for 1 confirmation…", with Cancel while it is safe."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.label = role_label(role="hint")
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.hide()
        layout.addWidget(self.label, 1)
        layout.addWidget(self.cancel_button)
        self.stages: list[str] = []
        self._task: asyncio.Task[object] | None = None
        self.cancel_button.clicked.connect(self._cancel)

    def stage(self, text: str, *, cancellable: bool) -> None:
        """Enter a stage; Cancel shows only when stopping now leaves nothing half-done."""
        self.stages.append(text)
        self.label.setText(" → ".join(self.stages[-3:]))
        self.cancel_button.setVisible(cancellable and self._task is not None)

    def track(self, task: asyncio.Task[object] | None) -> None:
        """The task Cancel cancels; None when the flow ends."""
        self._task = task
        if task is None:
            self.cancel_button.hide()

    def reset(self) -> None:
        """Forget the previous flow's stages."""
        self.stages.clear()
        self.label.clear()

    def _cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()


async def ask_confirmation(parent: QWidget | None, services: Services, plan: TxPlan) -> bool:
    """Open the confirmation dialog, estimate the fee while it shows, and wait for the person's answer."""
    dialog = ConfirmDialog(plan, parent)
    answer: asyncio.Future[bool] = asyncio.get_running_loop().create_future()

    def finished(result: int) -> None:
        if not answer.done():
            answer.set_result(result == QDialog.DialogCode.Accepted)

    dialog.finished.connect(finished)
    dialog.open()
    try:
        try:
            dialog.set_fee(await estimate_fee(services, plan))
        except AppError as e:
            dialog.set_failure(f"This transaction would not go through: {e.user_message}")
        return await answer
    finally:
        if dialog.isVisible():
            dialog.reject()
        dialog.deleteLater()


async def run_transaction(
    parent: QWidget | None,
    services: Services,
    plan: TxPlan,
    send: Callable[[], Awaitable[TxReceipt]],
    progress: StageProgress,
) -> TxReceipt | None:
    """Estimate → confirm → send and wait for 1 confirmation, showing each stage. None if the person declined.

    Cancelling is offered until the transaction is signed; after that it is on its way and the flow waits for it.
    """
    progress.reset()
    progress.track(asyncio.current_task())
    try:
        progress.stage("estimating the fee…", cancellable=True)
        progress.stage("waiting for your confirmation…", cancellable=True)
        if not await ask_confirmation(parent, services, plan):
            progress.stage("cancelled", cancellable=False)
            return None
        progress.stage(f"{plan.stage} (waiting for 1 confirmation)", cancellable=False)
        progress.track(None)
        receipt = await asyncio.shield(send())
        progress.stage(f"done in block {receipt.block_number:,}", cancellable=False)
        log.info("%s confirmed in %s", plan.title, receipt.tx_hash)
        return receipt
    except AppError:
        progress.stage("failed", cancellable=False)
        raise
    finally:
        progress.track(None)
