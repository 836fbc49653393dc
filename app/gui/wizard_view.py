"""The setup wizard window: renders SetupWizard's current view and sends each page's input to it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QStackedWidget, QVBoxLayout, QWidget

from app.errors import AppError, WalletError
from app.gui.async_slot import run_async
from app.gui.chain_banner import ChainBanner
from app.gui.wizard_pages import (
    ChoosePage,
    CreateShowPage,
    CreateVerifyPage,
    DonePage,
    ImportKeyPage,
    ImportKeystorePage,
    ImportMnemonicPage,
    NetworkPage,
    Page,
    PasswordPage,
    TermsPage,
)
from app.wallet.wizard import SetupWizard, Step, WizardView

BalanceLookup = Callable[[Sequence[str]], Awaitable[dict[str, tuple[int, int]]]]
"""``await lookup(addresses) -> {address: (eth_wei, mor_wei)}`` for the import account picker."""


class SetupWizardView(QWidget):
    """One page at a time, Back where the state machine allows it; input errors appear next to their field.

    Signals:
        completed: the wallet is stored and unlocked; carries the NetworkChoice to save
    """

    completed = Signal(object)

    def __init__(
        self, wizard: SetupWizard, balances: BalanceLookup | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.wizard = wizard
        self._balances = balances
        self.stack = QStackedWidget()
        self.terms, self.password, self.choose = TermsPage(), PasswordPage(), ChoosePage()
        self.create_show, self.create_verify = CreateShowPage(), CreateVerifyPage()
        self.import_mnemonic, self.import_key = ImportMnemonicPage(), ImportKeyPage()
        self.import_keystore, self.network, self.done = ImportKeystorePage(), NetworkPage(), DonePage()
        self.pages: dict[Step, Page] = {
            Step.TERMS: self.terms, Step.PASSWORD: self.password, Step.CHOOSE: self.choose,
            Step.CREATE_SHOW: self.create_show, Step.CREATE_VERIFY: self.create_verify,
            Step.IMPORT_MNEMONIC: self.import_mnemonic, Step.IMPORT_KEY: self.import_key,
            Step.IMPORT_KEYSTORE: self.import_keystore, Step.NETWORK: self.network, Step.DONE: self.done,
        }  # fmt: skip
        for page in self.pages.values():
            self.stack.addWidget(page)
        self.back_button = QPushButton("Back")
        self.back_button.clicked.connect(self._back)
        self.nav = QHBoxLayout()
        self.nav.addWidget(self.back_button)
        self.nav.addStretch(1)
        # The chain starts behind the wizard: its failure shows here, and the pages keep what was typed.
        self.chain_banner = ChainBanner()
        layout = QVBoxLayout(self)
        layout.addWidget(self.chain_banner)
        layout.addWidget(self.stack, 1)
        layout.addLayout(self.nav)
        for page in self.pages.values():
            self.nav.addWidget(page.next_button)
            page.next_button.hide()
        self._wire()
        self.view: WizardView | None = None

    def _wire(self) -> None:
        self.terms.next_button.clicked.connect(self._accept_terms)
        self.password.next_button.clicked.connect(self._set_password)
        self.choose.chosen.connect(lambda path: self._sync(lambda: self.wizard.choose(path)))
        self.create_show.regenerate.connect(lambda n: self._sync(lambda: self.wizard.regenerate(n)))
        self.create_show.next_button.clicked.connect(self._written_down)
        self.create_verify.next_button.clicked.connect(
            lambda: self._async(lambda: self.wizard.verify_words(self.create_verify.answers()), "verify words")
        )
        self.import_mnemonic.preview_requested.connect(self._preview)
        self.import_mnemonic.next_button.clicked.connect(self._import_mnemonic)
        self.import_key.next_button.clicked.connect(
            lambda: self._async(lambda: self.wizard.import_private_key(self.import_key.key.text()), "import key")
        )
        self.import_keystore.next_button.clicked.connect(self._import_keystore)
        self.network.next_button.clicked.connect(self._choose_network)
        self.done.next_button.clicked.connect(lambda: self.completed.emit(self.wizard.network))

    # -- rendering ---------------------------------------------------------------------------------------------
    async def start(self) -> WizardView:
        """Ask the state machine for its first view and show it."""
        view = await self.wizard.start()
        self.show_view(view)
        return view

    def show_view(self, view: WizardView) -> None:
        """Show the page for ``view.step``, filled from the view."""
        self.view = view
        page = self.pages[view.step]
        page.clear_errors()
        page.load(view)
        for other in self.pages.values():
            # The choose page advances by its own buttons; every other page has one primary button.
            other.next_button.setVisible(other is page and other is not self.choose)
        self.stack.setCurrentWidget(page)
        self.back_button.setVisible(view.can_go_back)

    def current_page(self) -> Page:
        """The page on screen."""
        page = self.stack.currentWidget()
        assert isinstance(page, Page)
        return page

    # -- actions -----------------------------------------------------------------------------------------------
    def _sync(self, action: Callable[[], WizardView]) -> None:
        page = self.current_page()
        page.clear_errors()
        try:
            view = action()
        except WalletError as e:
            page.show_failure(e.user_message)
            return
        self.show_view(view)

    def _async(self, action: Callable[[], Awaitable[WizardView]], name: str) -> None:
        page = self.current_page()
        page.clear_errors()

        async def run() -> None:
            try:
                view = await action()
            except AppError as e:
                page.show_failure(e.user_message)
                return
            self.show_view(view)

        run_async(run, name=f"wizard: {name}", busy=[page.next_button, self.back_button])

    def _back(self) -> None:
        self._sync(self.wizard.back)

    def _accept_terms(self) -> None:
        self._sync(lambda: self.wizard.accept_terms(self.terms.accept_box.isChecked()))

    def _set_password(self) -> None:
        self._sync(lambda: self.wizard.set_password(self.password.password.text(), self.password.confirmation.text()))

    def _written_down(self) -> None:
        if not self.create_show.written.isChecked():
            self.create_show.show_failure("Tick the box once every word is written down; you will be asked for some.")
            return
        self._sync(self.wizard.confirm_written_down)

    def _preview(self) -> None:
        page = self.import_mnemonic
        phrase, passphrase = page.phrase.toPlainText(), page.passphrase.text()

        async def run() -> None:
            previews = await self.wizard.preview(phrase, passphrase)
            balances: dict[str, tuple[int, int]] = {}
            if self._balances is not None:
                try:
                    balances = await self._balances([p.address for p in previews])
                except AppError as e:  # balances are a help for choosing, not required to import
                    page.show_failure(f"Balances unavailable: {e.user_message}")
            page.set_accounts(previews, balances)

        run_async(run, name="wizard: preview accounts", busy=[page.show_accounts], error_label=page.error)

    def _import_mnemonic(self) -> None:
        page = self.import_mnemonic
        phrase, passphrase, index = page.phrase.toPlainText(), page.passphrase.text(), page.chosen_index()
        self._async(lambda: self.wizard.import_mnemonic(phrase, passphrase, index=index), "import phrase")

    def _import_keystore(self) -> None:
        page = self.import_keystore
        path_text = page.path.text().strip()
        if not path_text:
            page.path.set_error("Choose the keystore file (Browse…) or type its path.")
            return
        self._async(lambda: self.wizard.import_keystore_file(Path(path_text), page.password.text()), "keystore")

    def _choose_network(self) -> None:
        page = self.network
        page.clear_errors()
        try:
            chain_id = page.chain_id_value()
        except WalletError as e:
            page.chain_id.set_error(e.user_message)
            return
        key, url = page.selected(), page.rpc.text()
        self._async(lambda: self.wizard.choose_network(key, url or None, chain_id), "network")
