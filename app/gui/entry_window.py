"""The window shown before the main one (start-up progress, setup wizard or unlock); light enough to show at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtWidgets import QStackedWidget, QWidget

from app.gui.startup_view import StartupView

if TYPE_CHECKING:  # the wizard and unlock views pull in the wallet package; the first paint must not wait for it
    from app.gui.unlock_view import UnlockView
    from app.gui.wizard_view import SetupWizardView


class EntryWindow(QStackedWidget):
    """Start-up progress first; the controller adds the setup wizard or the unlock screen when it needs them."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Morpheus Node")
        self.resize(820, 640)
        self.startup = StartupView()
        self.addWidget(self.startup)
        self.wizard: SetupWizardView | None = None
        self.unlock: UnlockView | None = None
