"""The status bar: network, block height, router and devnet state, wallet address (copy) and lock state."""

from __future__ import annotations

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QLabel, QStatusBar, QToolButton, QWidget

from app.events import ChainStatus, ServiceState, WalletState


def short_address(address: str) -> str:
    """``0xAbCd…1234``: enough to recognise an address at a glance."""
    return f"{address[:6]}…{address[-4:]}" if len(address) > 12 else address


class StatusBar(QStatusBar):
    """Shows what the node is connected to and whether the wallet is locked; updated from bridge signals."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.network = QLabel("network: —")
        self.block = QLabel("block: —")
        self.router = QLabel("router: starting")
        self.devnet = QLabel("")
        self.address = QLabel("no wallet")
        self.copy_address = QToolButton()
        self.copy_address.setText("Copy")
        self.copy_address.setToolTip("Copy the wallet address")
        self.copy_address.setEnabled(False)
        self.copy_address.clicked.connect(self._copy_address)
        self.lock = QLabel("")
        for label in (self.network, self.block, self.router, self.devnet):
            self.addWidget(label)
        for permanent in (self.address, self.copy_address, self.lock):
            self.addPermanentWidget(permanent)
        self._full_address: str | None = None

    def on_chain_status(self, status: ChainStatus) -> None:
        """Show the network and the latest block, or that the chain is unreachable."""
        self.network.setText(f"network: {status.network} ({status.chain_id})")
        if status.reachable:
            self.block.setText(f"block: {status.block:,}" if status.block is not None else "block: —")
            self.block.setProperty("role", "")
        else:
            self.block.setText("chain unreachable" + (f": {status.detail}" if status.detail else ""))
            self.block.setProperty("role", "error")
        self.block.style().polish(self.block)

    def on_service_state(self, state: ServiceState) -> None:
        """Track the router and devnet services; other services only show on the startup screen."""
        if state.service == "router":
            self.router.setText(f"router: {state.state}")
            self.router.setToolTip(state.detail)
        elif state.service == "chain":
            self.devnet.setText(f"chain: {state.state}" + (f" ({state.detail})" if state.detail else ""))

    def on_wallet_state(self, state: WalletState) -> None:
        """Show the address with a copy button and the lock state."""
        self._full_address = state.address
        if state.address is None:
            self.address.setText("no wallet")
            self.address.setToolTip("")
            self.copy_address.setEnabled(False)
            self.lock.setText("")
            return
        self.address.setText(short_address(state.address))
        self.address.setToolTip(state.address)
        self.copy_address.setEnabled(True)
        self.lock.setText("🔒 locked" if state.locked else "🔓 unlocked")

    def _copy_address(self) -> None:
        if self._full_address:
            QGuiApplication.clipboard().setText(self._full_address)
            self.showMessage("Address copied", 2000)
