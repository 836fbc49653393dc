"""The pages of the setup wizard: each renders one step of the wallet package's state machine and nothing more."""

from __future__ import annotations

import re
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QFileDialog,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QTableWidget,
    QTableWidgetItem,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from app.errors import WalletError
from app.gui.formatting import amount
from app.gui.password_hint import password_strength
from app.gui.widgets import Field, error_label, role_label, show_error
from app.wallet.mnemonic import AddressPreview, validate_mnemonic
from app.wallet.networks import CUSTOM, DEVNET, NetworkPreset
from app.wallet.wizard import SetupPath, WizardView

TERMS = (
    "<p>This app keeps your wallet's key on <b>this computer only</b>, encrypted with the app password you choose "
    "next (or in your OS keychain).</p>"
    "<p><b>Nobody can recover your funds for you.</b> If you lose both this computer and your recovery phrase, "
    "your MOR and ETH are gone. Never share the recovery phrase or private key with anyone.</p>"
    "<p>Transactions on Base are final. Sessions stake MOR; early closes put part of the stake on hold until the "
    "next UTC midnight. The software is provided as is, without warranty.</p>"
)

PATH_TEXT = {
    SetupPath.USE_EXISTING: ("Use the wallet found in the OS keychain", "Set up by the Morpheus router before."),
    SetupPath.CREATE: ("Create a new wallet", "A fresh recovery phrase of 12 or 24 words."),
    SetupPath.IMPORT_MNEMONIC: ("Import a recovery phrase", "12–24 words from another wallet (MetaMask…)."),
    SetupPath.IMPORT_KEY: ("Import a private key", "64 hex digits, with or without 0x."),
    SetupPath.IMPORT_KEYSTORE: ("Import a keystore file", "A JSON keystore (V3) and its password."),
}


class Page(QWidget):
    """A wizard page: a title, a body, an inline error and a primary button."""

    def __init__(self, title: str, subtitle: str = "", next_text: str = "Next") -> None:
        super().__init__()
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(32, 24, 32, 24)
        self.layout_.addWidget(role_label(title, "title"))
        if subtitle:
            self.layout_.addWidget(role_label(subtitle, "hint"))
        self.body = QVBoxLayout()
        self.layout_.addLayout(self.body)
        self.layout_.addStretch(1)
        self.error = error_label()
        self.layout_.addWidget(self.error)
        self.next_button = QPushButton(next_text)
        self.next_button.setProperty("role", "primary")
        self.next_button.setDefault(True)

    def load(self, view: WizardView) -> None:
        """Fill the page from the wizard's view (each page overrides what it needs)."""

    def show_failure(self, message: str) -> None:
        """Put a WalletError message next to the field it concerns (default: the page's error line)."""
        show_error(self.error, message)

    def clear_errors(self) -> None:
        """Hide every inline message."""
        show_error(self.error, None)
        for field in self.findChildren(Field):
            field.set_error(None)


class TermsPage(Page):
    def __init__(self) -> None:
        super().__init__("Before you start", "Please read this; it matters for your money.", "I agree, continue")
        text = QTextBrowser()
        text.setHtml(TERMS)
        text.setMaximumHeight(220)
        self.accept_box = QCheckBox("I have read and accept these terms")
        self.body.addWidget(text)
        self.body.addWidget(self.accept_box)


class PasswordPage(Page):
    def __init__(self) -> None:
        super().__init__(
            "Choose an app password", "It unlocks the wallet on this computer. It cannot be recovered if forgotten."
        )
        self.password = Field("App password", "at least 8 characters", password=True)
        self.confirmation = Field("Repeat the password", password=True)
        self.strength = role_label("", "hint")
        self.body.addWidget(self.password)
        self.body.addWidget(self.strength)
        self.body.addWidget(self.confirmation)
        self.password.edit.textChanged.connect(self._update_strength)

    def _update_strength(self, text: str) -> None:
        if not text:
            self.strength.clear()
            return
        hint = password_strength(text)
        self.strength.setText(f"Strength: {hint.label} ({hint.score}/4). {hint.advice}")
        self.strength.setProperty("role", "ok" if hint.score >= 3 else "hint")
        self.strength.style().polish(self.strength)

    def show_failure(self, message: str) -> None:
        target = self.confirmation if "differ" in message else self.password
        target.set_error(message)


class ChoosePage(Page):
    chosen = Signal(str)

    def __init__(self) -> None:
        super().__init__("Your wallet", "Create a new wallet or bring the one you already have.")
        self.next_button.hide()
        self.notice = role_label("", "hint")
        self.notice.hide()
        self.body.addWidget(self.notice)
        self.buttons: dict[SetupPath, QPushButton] = {}
        for path, (title, detail) in PATH_TEXT.items():
            button = QPushButton(f"{title}\n{detail}")
            button.setObjectName(f"path-{path.value}")
            button.setMinimumHeight(52)
            button.setStyleSheet("text-align: left; padding: 6px 12px;")
            button.clicked.connect(lambda _checked=False, p=path: self.chosen.emit(p.value))
            self.buttons[path] = button
            self.body.addWidget(button)

    def load(self, view: WizardView) -> None:
        for path, button in self.buttons.items():
            button.setVisible(path in view.paths)
        if view.existing_address:
            self.buttons[SetupPath.USE_EXISTING].setText(
                f"{PATH_TEXT[SetupPath.USE_EXISTING][0]}\n{view.existing_address}"
            )
        show_error(self.notice, view.notice)


class WordLabel(QLabel):
    """One word of a new recovery phrase: large, not selectable, no context menu — it must not reach a clipboard."""

    def __init__(self, number: int, word: str) -> None:
        super().__init__(f"<span style='color:#8a8f98'>{number}.</span> {word}")
        font = QFont(self.font())
        font.setPointSize(16)
        self.setFont(font)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.NoTextInteraction)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.NoContextMenu)
        self.setMinimumWidth(150)


class CreateShowPage(Page):
    regenerate = Signal(int)

    def __init__(self) -> None:
        super().__init__(
            "Write down your recovery phrase",
            "On paper, in this order. It is shown only now and cannot be copied. Anyone who has it owns the wallet.",
            "I wrote them down",
        )
        self.grid_host = QWidget()
        self.grid = QGridLayout(self.grid_host)
        self.grid.setHorizontalSpacing(24)
        self.body.addWidget(self.grid_host)
        sizes = QHBoxLayout()
        self.twelve = QPushButton("12 words")
        self.twenty_four = QPushButton("24 words")
        self.twelve.clicked.connect(lambda: self.regenerate.emit(12))
        self.twenty_four.clicked.connect(lambda: self.regenerate.emit(24))
        sizes.addWidget(role_label("New phrase with:", "hint", wrap=False))
        sizes.addWidget(self.twelve)
        sizes.addWidget(self.twenty_four)
        sizes.addStretch(1)
        self.body.addLayout(sizes)
        self.written = QCheckBox("I wrote all the words down, in order, and will keep them offline")
        self.body.addWidget(self.written)
        self.words: list[WordLabel] = []

    def load(self, view: WizardView) -> None:
        for label in self.words:
            label.setParent(None)
            label.deleteLater()
        self.words = [WordLabel(i, w) for i, w in enumerate(view.words, start=1)]
        rows = (len(self.words) + 2) // 3
        for i, label in enumerate(self.words):
            # Column-major, like paper backup cards: 1–4 down the first column.
            self.grid.addWidget(label, i % rows, i // rows)
        self.written.setChecked(False)


class CreateVerifyPage(Page):
    def __init__(self) -> None:
        super().__init__("Check your copy", "Type the words asked for, from your written copy.", "Check")
        self.fields: dict[int, Field] = {}
        self.fields_host = QVBoxLayout()
        self.body.addLayout(self.fields_host)

    def load(self, view: WizardView) -> None:
        for field in self.fields.values():
            field.setParent(None)
            field.deleteLater()
        self.fields = {}
        for position in view.verify_positions:
            field = Field(f"Word #{position}")
            field.edit.setObjectName(f"verify-{position}")
            self.fields[position] = field
            self.fields_host.addWidget(field)

    def answers(self) -> dict[int, str]:
        return {position: field.text() for position, field in self.fields.items()}

    def show_failure(self, message: str) -> None:
        found = re.search(r"[Ww]ord (\d+)", message)
        field = self.fields.get(int(found.group(1))) if found else None
        if field is not None:
            field.set_error(message)
        else:
            super().show_failure(message)


class ImportMnemonicPage(Page):
    preview_requested = Signal()

    def __init__(self) -> None:
        super().__init__(
            "Import a recovery phrase", "Type or paste the words, separated by spaces. Then pick the account.",
            "Import this account",
        )  # fmt: skip
        self.body.addWidget(QLabel("Recovery phrase"))
        self.phrase = QPlainTextEdit()
        self.phrase.setMaximumHeight(80)
        self.phrase.setPlaceholderText("word1 word2 word3 …")
        self.body.addWidget(self.phrase)
        self.check = role_label("", "hint")
        self.body.addWidget(self.check)
        self.passphrase = Field("Passphrase (optional, the \"25th word\")", password=True)
        self.body.addWidget(self.passphrase)
        self.show_accounts = QPushButton("Show accounts")
        self.show_accounts.setEnabled(False)
        self.show_accounts.clicked.connect(self.preview_requested.emit)
        self.body.addWidget(self.show_accounts)
        self.accounts = QTableWidget(0, 4)
        self.accounts.setHorizontalHeaderLabels(["#", "Address", "ETH", "MOR"])
        self.accounts.verticalHeader().hide()
        self.accounts.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.accounts.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.accounts.setSelectionMode(QTableWidget.SelectionMode.SingleSelection)
        self.accounts.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.accounts.setMinimumHeight(240)
        self.body.addWidget(self.accounts)
        self.phrase.textChanged.connect(self._live_check)
        self.valid = False

    def _live_check(self) -> None:
        text = self.phrase.toPlainText()
        self.accounts.setRowCount(0)
        if not text.strip():
            self.check.clear()
            self.valid = False
        else:
            try:
                validate_mnemonic(text)
            except WalletError as e:
                self.valid = False
                self.check.setText(e.user_message)
                self.check.setProperty("role", "error")
            else:
                self.valid = True
                self.check.setText(f"✓ Valid recovery phrase ({len(text.split())} words)")
                self.check.setProperty("role", "ok")
            self.check.style().polish(self.check)
        self.show_accounts.setEnabled(self.valid)

    def set_accounts(self, previews: Sequence[AddressPreview], balances: dict[str, tuple[int, int]]) -> None:
        self.accounts.setRowCount(len(previews))
        for row, preview in enumerate(previews):
            eth, mor = balances.get(preview.address, (-1, -1))
            cells = [
                str(preview.index), preview.address,
                amount(eth, "ETH") if eth >= 0 else "—", amount(mor, "MOR") if mor >= 0 else "—",
            ]  # fmt: skip
            for col, text in enumerate(cells):
                self.accounts.setItem(row, col, QTableWidgetItem(text))
        for column in (0, 2, 3):
            self.accounts.resizeColumnToContents(column)
        if previews:
            self.accounts.selectRow(0)

    def chosen_index(self) -> int:
        rows = self.accounts.selectionModel().selectedRows() if self.accounts.selectionModel() else []
        if not rows:
            return 0
        item = self.accounts.item(rows[0].row(), 0)
        return int(item.text()) if item is not None else 0

    def show_failure(self, message: str) -> None:
        self.check.setText(message)
        self.check.setProperty("role", "error")
        self.check.style().polish(self.check)


class ImportKeyPage(Page):
    def __init__(self) -> None:
        super().__init__("Import a private key", "The key is stored encrypted and never shown again.", "Import")
        self.key = Field("Private key", "64 hex digits", password=True)
        self.body.addWidget(self.key)

    def show_failure(self, message: str) -> None:
        self.key.set_error(message)


class ImportKeystorePage(Page):
    def __init__(self) -> None:
        super().__init__(
            "Import a keystore file", "A JSON keystore (V3), e.g. exported from geth or MetaMask.", "Import"
        )
        row = QHBoxLayout()
        self.path = Field("Keystore file", "/path/to/UTC--…json")
        self.browse = QPushButton("Browse…")
        self.browse.clicked.connect(self._browse)
        row.addWidget(self.path, 1)
        row.addWidget(self.browse, 0, Qt.AlignmentFlag.AlignTop)
        self.body.addLayout(row)
        self.password = Field("Keystore password", password=True)
        self.body.addWidget(self.password)
        self._dialog: QFileDialog | None = None

    def _browse(self) -> None:
        # open() + a signal, never a static getOpenFileName(): that would spin a nested event loop.
        self._dialog = QFileDialog(self, "Choose a keystore file", "", "Keystore (*.json UTC--*);;All files (*)")
        self._dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        self._dialog.fileSelected.connect(self.path.edit.setText)
        self._dialog.open()

    def show_failure(self, message: str) -> None:
        target = self.password if "password" in message.lower() else self.path
        target.set_error(message)


class NetworkPage(Page):
    def __init__(self) -> None:
        super().__init__("Choose a network", "You can change it later in Settings.", "Finish")
        self.group = QButtonGroup(self)
        self.radios: dict[str, QRadioButton] = {}
        self.radio_box = QVBoxLayout()
        self.body.addLayout(self.radio_box)
        self.rpc = Field("RPC URL (optional for Base networks, required for custom)", "https://…")
        self.chain_id = Field("Chain id (custom only)", "e.g. 8453")
        self.body.addWidget(self.rpc)
        self.body.addWidget(self.chain_id)
        self.address = role_label("", "hint")
        self.body.addWidget(self.address)

    def load(self, view: WizardView) -> None:
        if not self.radios:
            for preset in view.networks:
                self._add(preset)
            self.radios[DEVNET].setChecked(True)
            self._toggled()
        if view.address:
            self.address.setText(f"Wallet address: {view.address}")

    def _add(self, preset: NetworkPreset) -> None:
        radio = QRadioButton(preset.name)
        radio.setObjectName(f"network-{preset.key}")
        radio.toggled.connect(self._toggled)
        self.group.addButton(radio)
        self.radios[preset.key] = radio
        self.radio_box.addWidget(radio)

    def _toggled(self) -> None:
        key = self.selected()
        self.rpc.setEnabled(key != DEVNET)
        self.chain_id.setVisible(key == CUSTOM)

    def selected(self) -> str:
        for key, radio in self.radios.items():
            if radio.isChecked():
                return key
        return DEVNET

    def chain_id_value(self) -> int | None:
        """The typed chain id; a WalletError names a non-number (shown next to the field)."""
        text = self.chain_id.text().strip()
        if not text or self.selected() != CUSTOM:
            return None
        if not text.isdigit() or int(text) <= 0:
            raise WalletError(f"The chain id is a positive whole number (Base is 8453), not '{text}'.")
        return int(text)

    def show_failure(self, message: str) -> None:
        lowered = message.lower()
        if "chain id" in lowered and "rpc" not in lowered:
            self.chain_id.set_error(message)
        elif "rpc" in lowered or "url" in lowered:
            self.rpc.set_error(message)
        else:
            super().show_failure(message)


class DonePage(Page):
    def __init__(self) -> None:
        super().__init__("Your wallet is ready", "", "Open the app")
        self.summary = role_label()
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.body.addWidget(self.summary)

    def load(self, view: WizardView) -> None:
        network = view.network.name if view.network else ""
        self.summary.setText(f"Address: {view.address}\nNetwork: {network}")
