"""The window shown before the main one (start-up progress, setup wizard or unlock); light enough to show at once."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QStackedWidget, QWidget

from app.gui.startup_view import StartupView

if TYPE_CHECKING:  # the wizard and unlock views pull in the wallet package; the first paint must not wait for it
    from app.gui.chain_banner import ChainBanner
    from app.gui.unlock_view import UnlockView
    from app.gui.wizard_view import SetupWizardView


class EntryWindow(QStackedWidget):
    """Start-up progress first; the controller adds the setup wizard or the unlock screen when it needs them.

    The chain starts behind the wizard and the unlock screen. Its failure is said on the screen the person is on
    (a banner with Retry over the wizard or unlock screen, which keep what was typed); the start-up screen shows it
    only when the person is there, waiting for the chain.

    Signals:
        chain_retry_requested: Retry was pressed on a banner (start the chain again, stay on the screen)
    """

    chain_retry_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Morpheus Node")
        self.resize(820, 640)
        self.startup = StartupView()
        self.addWidget(self.startup)
        self.wizard: SetupWizardView | None = None
        self.unlock: UnlockView | None = None
        # The chain side's last failure (None while it starts or is up), and whether a retry is under way.
        self.chain_failure: str | None = None
        self._retrying = False

    # -- the screens ---------------------------------------------------------------------------------------------
    def set_wizard(self, wizard: SetupWizardView) -> None:
        """Put ``wizard`` in place of the previous one (if any), its banner showing the chain's state."""
        if self.wizard is not None:
            self.removeWidget(self.wizard)
            self.wizard.deleteLater()
        self.wizard = wizard
        self.addWidget(wizard)
        self._attach(wizard.chain_banner)

    def set_unlock(self, view: UnlockView) -> None:
        """Put ``view`` in place of the previous unlock screen (if any), its banner showing the chain's state."""
        if self.unlock is not None:
            self.removeWidget(self.unlock)
            self.unlock.deleteLater()
        self.unlock = view
        self.addWidget(view)
        self._attach(view.chain_banner)

    def _attach(self, banner: ChainBanner) -> None:
        banner.retry_requested.connect(self.chain_retry_requested.emit)
        self._render(banner)

    def _banners(self) -> list[ChainBanner]:
        return [view.chain_banner for view in (self.wizard, self.unlock) if view is not None]

    def _render(self, banner: ChainBanner) -> None:
        if self.chain_failure is not None:
            banner.show_failure(self.chain_failure)
        elif self._retrying:
            banner.show_retrying()
        else:
            banner.clear()

    def _render_all(self) -> None:
        for banner in self._banners():
            self._render(banner)

    # -- the chain's state ---------------------------------------------------------------------------------------
    def chain_failed(self, message: str) -> None:
        """The chain did not start: a banner over the wizard / unlock screen, else the start-up failure screen."""
        self.chain_failure, self._retrying = message, False
        self._render_all()
        if self.currentWidget() not in (self.wizard, self.unlock):
            self.show_chain_failure_screen()

    def show_chain_failure_screen(self) -> None:
        """The start-up screen with the chain's failure and Retry (the person needs the chain now)."""
        if self.chain_failure is not None:
            self.startup.failed(self.chain_failure)
        self.setCurrentWidget(self.startup)
        self.show()

    def chain_retrying(self) -> None:
        """The chain starts again: banners say so; the start-up screen drops the old failure for the new progress."""
        self.chain_failure, self._retrying = None, True
        self.startup.reset()
        self._render_all()

    def chain_up(self) -> None:
        """The chain is up, or everything starts afresh (a first start, a restart): banners go."""
        self.chain_failure, self._retrying = None, False
        self._render_all()
