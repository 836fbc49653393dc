"""The unlock screen shown on later launches and after auto-lock: the app password, nothing else."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QPushButton, QVBoxLayout, QWidget

from app.gui.async_slot import run_async
from app.gui.chain_banner import ChainBanner
from app.gui.status_bar import short_address
from app.gui.widgets import Field, role_label
from app.wallet.manager import WalletManager


class UnlockView(QWidget):
    """Password field and Unlock; a wrong password is said next to the field and the field is cleared.

    Signals:
        unlocked: the wallet is unlocked; carries the address
        reset_requested: the person forgot the password and wants to set the wallet up again
    """

    unlocked = Signal(str)
    reset_requested = Signal()

    def __init__(self, manager: WalletManager, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.manager = manager
        layout = QVBoxLayout(self)
        layout.setAlignment(Qt.AlignmentFlag.AlignCenter)
        # The chain starts behind this screen: its failure shows here without clearing the password field.
        self.chain_banner = ChainBanner()
        layout.addWidget(self.chain_banner)
        box = QWidget()
        box.setMaximumWidth(420)
        inner = QVBoxLayout(box)
        inner.addWidget(role_label("Unlock your wallet", "title"))
        self.reason = role_label("", "hint")
        inner.addWidget(self.reason)
        self.password = Field("App password", password=True)
        self.password.edit.returnPressed.connect(self.unlock)
        inner.addWidget(self.password)
        self.unlock_button = QPushButton("Unlock")
        self.unlock_button.setProperty("role", "primary")
        self.unlock_button.clicked.connect(self.unlock)
        inner.addWidget(self.unlock_button)
        self.forgot = QPushButton("Forgot the password? Set the wallet up again…")
        self.forgot.setFlat(True)
        self.forgot.clicked.connect(self.reset_requested.emit)
        inner.addWidget(self.forgot)
        layout.addWidget(box)

    def prepare(self, reason: str = "") -> None:
        """Show the screen fresh: empty field, the address, and why it is locked (e.g. "Locked after 15 min idle")."""
        address = self.manager.address
        who = f"Wallet {short_address(address)}. " if address else ""
        self.reason.setText(who + reason)
        self.password.edit.clear()
        self.password.set_error(None)
        self.password.edit.setFocus()

    def unlock(self) -> None:
        """Check the password off the loop; on success emit ``unlocked``."""
        password = self.password.text()
        if not password:
            self.password.set_error("Enter your app password.")
            return

        async def run() -> str:
            return await self.manager.unlock(password)

        def done(address: str) -> None:
            self.password.edit.clear()
            self.unlocked.emit(address)

        task = run_async(run, name="unlock", busy=[self.unlock_button, self.password.edit], on_done=done,
                         error_label=self.password.error)  # fmt: skip
        task.add_done_callback(lambda _t: self.password.edit.selectAll())
