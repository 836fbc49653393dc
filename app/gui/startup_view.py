"""The start-up screen: each service step as it starts (database, chain, devnet contracts, wallet), or what failed."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QLabel, QPushButton, QVBoxLayout, QWidget

from app.events import ServiceState
from app.gui.widgets import error_label, role_label, show_error

_MARK = {"starting": "…", "running": "✓", "failed": "✗", "stopped": "–"}


class StartupView(QWidget):
    """Lists service steps live from ServiceState events; a failure shows its message and a Retry button.

    Signals:
        retry_requested: the person pressed Retry after a failed start
    """

    retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setAlignment(Qt.AlignmentFlag.AlignCenter)
        layout.addWidget(role_label("Starting the Morpheus node", "title", wrap=False))
        self.steps_box = QVBoxLayout()
        layout.addLayout(self.steps_box)
        self.error = error_label()
        layout.addWidget(self.error)
        self.retry = QPushButton("Retry")
        self.retry.hide()
        self.retry.clicked.connect(self.retry_requested.emit)
        layout.addWidget(self.retry)
        self.steps: dict[str, QLabel] = {}

    def reset(self) -> None:
        """Clear the list for a new start."""
        for label in self.steps.values():
            label.setParent(None)
            label.deleteLater()
        self.steps.clear()
        show_error(self.error, None)
        self.retry.hide()

    def on_service_state(self, state: ServiceState) -> None:
        """Add or update the line of ``state.service``."""
        label = self.steps.get(state.service)
        if label is None:
            label = role_label("", "hint")
            self.steps[state.service] = label
            self.steps_box.addWidget(label)
        seconds = f" ({state.seconds:.1f} s)" if state.seconds else ""
        detail = f": {state.detail}" if state.detail else ""
        label.setText(f"{_MARK.get(state.state, '·')} {state.service}{detail}{seconds}")
        label.setProperty("role", "error" if state.state == "failed" else "hint")
        label.style().polish(label)

    def failed(self, message: str) -> None:
        """The start failed: say why and offer Retry."""
        show_error(self.error, message)
        self.retry.show()
