"""A strip over the wizard and unlock screens saying the chain failed to start (with Retry), without leaving them."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QWidget

from app.gui.widgets import role_label

RETRYING_TEXT = "Starting the chain again…"


class ChainBanner(QFrame):
    """Hidden while the chain is starting or up; after a failure its message and Retry, while retrying a note.

    The screen under it stays as it is: the chain is only needed once the person finishes the wizard or unlocks.

    Signals:
        retry_requested: the person pressed Retry
    """

    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "card")
        layout = QHBoxLayout(self)
        self.message = role_label(role="error")
        self.message.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.retry = QPushButton("Retry")
        self.retry.clicked.connect(self.retry_requested.emit)
        layout.addWidget(self.message, 1)
        layout.addWidget(self.retry, 0, Qt.AlignmentFlag.AlignTop)
        self.hide()

    def show_failure(self, message: str) -> None:
        """The chain did not start: say why and offer Retry."""
        self._show(message, "error", retry=True)

    def show_retrying(self) -> None:
        """Retry was pressed: the chain is starting again."""
        self._show(RETRYING_TEXT, "hint", retry=False)

    def clear(self) -> None:
        """The chain is up (or starting for the first time): nothing to say."""
        self.message.clear()
        self.hide()

    def _show(self, text: str, role: str, *, retry: bool) -> None:
        self.message.setText(text)
        self.message.setProperty("role", role)
        self.message.style().polish(self.message)
        self.retry.setVisible(retry)
        self.show()
