"""The main window: a sidebar of panes, the pane stack, the status bar and the global shortcuts."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QSize, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QStackedWidget,
    QWidget,
)

from app.gui.bridge import Bridge
from app.gui.status_bar import StatusBar

PANE_ORDER = ("dashboard", "marketplace", "chat", "staking", "provider", "settings")


@dataclass
class Pane:
    """One entry of the sidebar: a stable key, the label shown, and the widget."""

    key: str
    title: str
    widget: QWidget


class MainWindow(QMainWindow):
    """Sidebar navigation between panes; global shortcuts are re-emitted as signals for the panes to handle.

    Signals:
        new_chat_requested: Ctrl+N
        search_requested: Ctrl+K
        lock_requested: Ctrl+L
        stop_requested: Esc
        closing: the window is about to close (the app shuts services down)
    """

    new_chat_requested = Signal()
    search_requested = Signal()
    lock_requested = Signal()
    stop_requested = Signal()
    closing = Signal()

    def __init__(self, bridge: Bridge, panes: list[Pane], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Morpheus Node")
        self.resize(1200, 800)
        self.setMinimumSize(QSize(900, 600))
        self.sidebar = QListWidget()
        self.sidebar.setObjectName("sidebar")
        self.sidebar.setFixedWidth(190)
        self.stack = QStackedWidget()
        self._keys: list[str] = []
        for pane in sorted(panes, key=lambda p: PANE_ORDER.index(p.key) if p.key in PANE_ORDER else 99):
            self.add_pane(pane)
        self.sidebar.currentRowChanged.connect(self.stack.setCurrentIndex)
        if self._keys:
            self.sidebar.setCurrentRow(0)

        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.sidebar)
        layout.addWidget(self.stack, 1)
        self.setCentralWidget(central)

        self.bridge = bridge  # the window owns the bridge; without a reference Qt would delete it
        self.status = StatusBar()
        self.setStatusBar(self.status)
        bridge.chain_status.connect(self.status.on_chain_status)
        bridge.service_state.connect(self.status.on_service_state)
        bridge.wallet_state.connect(self.status.on_wallet_state)
        bridge.tx_recovered.connect(lambda event: self.status.showMessage(event.message, 15000))

        self._shortcut(QKeySequence.StandardKey.New, self._new_chat)
        self._shortcut(QKeySequence("Ctrl+K"), self.search_requested.emit)
        self._shortcut(QKeySequence("Ctrl+L"), self.lock_requested.emit)
        self._shortcut(QKeySequence("Esc"), self.stop_requested.emit)

    def _shortcut(self, sequence: QKeySequence | QKeySequence.StandardKey, slot: object) -> None:
        shortcut = QShortcut(sequence, self)
        shortcut.activated.connect(slot)

    def _new_chat(self) -> None:
        if "chat" in self._keys:
            self.show_pane("chat")
        self.new_chat_requested.emit()

    def add_pane(self, pane: Pane) -> None:
        """Append a pane to the sidebar and the stack."""
        self._keys.append(pane.key)
        self.sidebar.addItem(QListWidgetItem(pane.title))
        self.stack.addWidget(pane.widget)

    def pane_keys(self) -> list[str]:
        """The pane keys in sidebar order."""
        return list(self._keys)

    def show_pane(self, key: str) -> None:
        """Switch to the pane named ``key``."""
        self.sidebar.setCurrentRow(self._keys.index(key))

    def current_pane(self) -> str:
        """The key of the visible pane."""
        return self._keys[self.stack.currentIndex()]

    def closeEvent(self, event: QCloseEvent) -> None:
        self.closing.emit()
        super().closeEvent(event)
