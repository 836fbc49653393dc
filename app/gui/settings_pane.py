"""Settings: network and RPC, failover, rating weights, API address and credentials, data folder, auto-lock,
theme, and resetting the wallet (typed confirmation). Every field is validated inline before anything is saved."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

from PySide6.QtCore import Qt, QTimer, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QWidget,
)

from app.bootstrap.services import Services
from app.config import values
from app.config.rating_config import DEFAULT_WEIGHTS, WEIGHT_NAMES, RatingWeights, parse_weights
from app.config.settings import write_settings_file
from app.errors import AppError, ConfigError
from app.gui.async_slot import run_async
from app.gui.prefs import (
    AUTO_LOCK_KEY,
    MAX_AUTO_LOCK_MINUTES,
    THEME_KEY,
    GuiPrefs,
    save_network,
    save_pref,
    settings_file,
)
from app.gui.theme import Theme
from app.gui.widgets import Card, Field, error_label, role_label, scroll_page, show_error
from app.paths import write_private_file
from app.router.api.auth import ADMIN, AuthConfig, random_password
from app.wallet.manager import RESET_CONFIRMATION
from app.wallet.networks import PRESETS, ChainIdProbe, resolve_network

WEIGHT_LABELS = {
    "tps": "Speed (tokens per second)", "ttft": "Time to first token", "duration": "Session duration",
    "success": "Success rate", "stake": "Provider stake",
}  # fmt: skip


def _add_all(card: Card, *widgets: QWidget) -> None:
    """Stack ``widgets`` in ``card``; buttons keep their natural width, on the left."""
    for widget in widgets:
        if isinstance(widget, QPushButton):
            card.body.addWidget(widget, 0, Qt.AlignmentFlag.AlignLeft)
        else:
            card.body.addWidget(widget)


RESET_DEVNET_TEXT = "Reset devnet…"
RESET_DEVNET_WINDOW_MS = 6000


class SettingsPane(QWidget):
    """Each card saves on its own button; bad input is said next to its field and nothing is written.

    Signals:
        network_changed: a NetworkChoice was saved (the app restarts its chain connection)
        theme_changed: a Theme was chosen
        wallet_reset: the wallet was deleted from this computer
        devnet_reset_requested: the person confirmed "Reset devnet" (the app wipes and restarts the local chain)
    """

    network_changed = Signal(object)
    theme_changed = Signal(object)
    wallet_reset = Signal()
    devnet_reset_requested = Signal()

    def __init__(
        self, services: Services, probe: ChainIdProbe, prefs: GuiPrefs | None = None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.services = services
        self.settings = services.settings
        self._probe = probe
        prefs = prefs or GuiPrefs()
        layout = scroll_page(self)
        layout.addWidget(role_label("Settings", "title", wrap=False))
        grid = QGridLayout()
        grid.addWidget(self._network_card(), 0, 0)
        grid.addWidget(self._rating_card(), 0, 1)
        grid.addWidget(self._api_card(), 1, 0)
        grid.addWidget(self._app_card(prefs), 1, 1)
        layout.addLayout(grid)
        layout.addWidget(self._reset_card())
        layout.addStretch(1)

    # -- network -----------------------------------------------------------------------------------------------
    def _network_card(self) -> Card:
        card = Card("Network")
        self.network = QComboBox()
        for preset in PRESETS:
            self.network.addItem(preset.name, preset.key)
        current = self.settings.eth_node_address
        chain_id = self.settings.eth_node_chain_id
        key = "devnet" if not current else next((p.key for p in PRESETS if p.chain_id == chain_id), "custom")
        self.network.setCurrentIndex(max(self.network.findData(key), 0))
        self.rpc = Field("RPC URL (empty: the network's public RPC)", "https://…")
        self.rpc.edit.setText(current or "")
        self.chain_id = Field("Chain id (custom network)", "8453")
        self.chain_id.edit.setText(str(chain_id) if chain_id else "")
        self.failover = QCheckBox("Switch to the next-best provider when one fails mid-chat (failover)")
        self.failover.setChecked(self.settings.failover_enabled)
        self.network_button = QPushButton("Check and save")
        self.network_button.clicked.connect(self.save_network)
        self.network_status = role_label("", "hint")
        self.network_error = error_label()
        _add_all(card, self.network, self.rpc, self.chain_id, self.failover, self.network_button, self.network_status,
                 self.network_error)  # fmt: skip
        self.network.currentIndexChanged.connect(self._network_picked)
        self._network_picked()
        return card

    def _network_picked(self) -> None:
        key = str(self.network.currentData())
        self.chain_id.setVisible(key == "custom")
        self.rpc.setEnabled(key != "devnet")

    def save_network(self) -> None:
        """Validate the URL (it must answer with the expected chain id), then save network and failover."""
        self.rpc.set_error(None)
        self.chain_id.set_error(None)
        key = str(self.network.currentData())
        text = self.chain_id.text().strip()
        chain_id: int | None = None
        if key == "custom":
            if not text.isdigit() or int(text) <= 0:
                self.chain_id.set_error("Enter the chain id as a positive whole number (Base is 8453).")
                return
            chain_id = int(text)
        url = self.rpc.text().strip() or None

        async def run() -> None:
            try:
                choice = await resolve_network(key, url, chain_id, self._probe)
            except AppError as e:
                target = self.chain_id if "chain id" in e.user_message.lower() and url is None else self.rpc
                target.set_error(e.user_message)
                return
            await save_network(self.services.data_dir, choice)
            failover = "true" if self.failover.isChecked() else "false"
            await asyncio.to_thread(write_settings_file, settings_file(self.services.data_dir),
                                    {"FAILOVER_ENABLED": failover})  # fmt: skip
            self.network_status.setText(f"Saved: {choice.name}. The chain connection restarts with it.")
            self.network_changed.emit(choice)

        run_async(run, name="save network", busy=[self.network_button], error_label=self.network_error)

    # -- rating ------------------------------------------------------------------------------------------------
    def _rating_card(self) -> Card:
        card = Card("Provider rating weights (must add up to 1)")
        self.weights: dict[str, Field] = {}
        current = self.services.config.rating.weights
        for name in WEIGHT_NAMES:
            field = Field(WEIGHT_LABELS[name])
            field.edit.setText(f"{getattr(current, name):g}")
            self.weights[name] = field
            card.body.addWidget(field)
        row = QHBoxLayout()
        self.weights_save = QPushButton("Save weights")
        self.weights_save.clicked.connect(self.save_weights)
        self.weights_reset = QPushButton("Reset to defaults")
        self.weights_reset.clicked.connect(self.reset_weights)
        row.addWidget(self.weights_save)
        row.addWidget(self.weights_reset)
        row.addStretch(1)
        card.body.addLayout(row)
        self.weights_status = role_label("", "hint")
        self.weights_error = error_label()
        card.body.addWidget(self.weights_status)
        card.body.addWidget(self.weights_error)
        return card

    def _typed_weights(self) -> dict[str, float] | None:
        typed: dict[str, float] = {}
        for name, field in self.weights.items():
            field.set_error(None)
            try:
                value = float(field.text().strip())
            except ValueError:
                field.set_error("Enter a number between 0 and 1, such as 0.24.")
                continue
            if not 0 <= value <= 1:
                field.set_error("Each weight is between 0 and 1.")
                continue
            typed[name] = value
        return typed if len(typed) == len(self.weights) else None

    def rating_path(self) -> Path:
        """Where rating-config.json lives for this node."""
        return self.settings.resolve(self.settings.rating_config_path)

    def save_weights(self) -> None:
        """Check the five weights (each 0–1, summing to 1) and write them to rating-config.json."""
        show_error(self.weights_error, None)
        typed = self._typed_weights()
        if typed is None:
            return
        try:
            weights = parse_weights(typed, "the weights")
        except ConfigError as e:
            show_error(self.weights_error, e.user_message)
            return
        run_async(lambda: self._write_weights(weights), name="save weights", busy=[self.weights_save],
                  error_label=self.weights_error)  # fmt: skip

    def reset_weights(self) -> None:
        """Put the default weights back in the fields and in the file."""
        for name, field in self.weights.items():
            field.edit.setText(f"{getattr(DEFAULT_WEIGHTS, name):g}")
        self.save_weights()

    async def _write_weights(self, weights: RatingWeights) -> None:
        path = self.rating_path()

        def write() -> None:
            try:
                data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
            except (OSError, ValueError) as e:
                raise ConfigError(f"{path} cannot be read ({type(e).__name__}); fix or delete it first.") from e
            if not isinstance(data, dict):
                data = {}
            data.setdefault("algorithm", "default")
            data.setdefault("providerAllowlist", [])
            data["params"] = {"weights": {name: getattr(weights, name) for name in WEIGHT_NAMES}}
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")

        await asyncio.to_thread(write)
        self.weights_status.setText(f"Saved to {path}.")

    # -- API -----------------------------------------------------------------------------------------------------
    def _api_card(self) -> Card:
        card = Card("Local API (for tools and scripts)")
        self.web_address = Field("API address (host:port)", "127.0.0.1:8082")
        self.web_address.edit.setText(self.settings.web_address)
        self.api_save = QPushButton("Save address")
        self.api_save.clicked.connect(self.save_api_address)
        self.cookie_path = self.settings.resolve(self.settings.cookie_file_path)
        cookie = QLabel(f"Credentials file: {self.cookie_path}\n(user admin, password inside; keep it private)")
        cookie.setWordWrap(True)
        self.regenerate_button = QPushButton("Regenerate the admin password")
        self.regenerate_button.clicked.connect(self.regenerate_credentials)
        self.api_status = role_label("", "hint")
        self.api_error = error_label()
        _add_all(card, self.web_address, self.api_save, cookie, self.regenerate_button, self.api_status, self.api_error)
        return card

    def save_api_address(self) -> None:
        """Validate host:port and save it (used when the API starts)."""
        try:
            address = values.host_port(self.web_address.text(), "The API address")
        except ConfigError as e:
            self.web_address.set_error(e.user_message)
            return

        async def run() -> None:
            await asyncio.to_thread(write_settings_file, settings_file(self.services.data_dir),
                                    {"WEB_ADDRESS": address})  # fmt: skip
            self.api_status.setText(f"Saved: the API listens on {address} after the next start.")

        run_async(run, name="save API address", busy=[self.api_save], error_label=self.api_error)

    def regenerate_credentials(self) -> None:
        """Write a new random admin password to the cookie file and re-seed proxy.conf from it."""
        conf = self.settings.resolve(self.settings.auth_config_file_path)

        def work() -> None:
            write_private_file(self.cookie_path, f"{ADMIN}:{random_password()}\n".encode())
            AuthConfig.load(self.cookie_path, conf)

        async def run() -> None:
            await asyncio.to_thread(work)
            self.api_status.setText(f"New admin password written to {self.cookie_path}. Tools must re-read it.")

        run_async(run, name="regenerate credentials", busy=[self.regenerate_button], error_label=self.api_error)

    # -- app -----------------------------------------------------------------------------------------------------
    def _app_card(self, prefs: GuiPrefs) -> Card:
        card = Card("This app")
        folder = QLabel(f"Data folder: {self.services.data_dir}\n(set MOR_DATA_DIR to use another folder)")
        folder.setWordWrap(True)
        open_folder = QPushButton("Open the data folder")
        open_folder.clicked.connect(lambda: QDesktopServices.openUrl(QUrl.fromLocalFile(str(self.services.data_dir))))
        self.auto_lock = Field(f"Auto-lock after minutes idle (0 = never, up to {MAX_AUTO_LOCK_MINUTES})")
        self.auto_lock.edit.setText(str(prefs.auto_lock_minutes))
        self.auto_lock_save = QPushButton("Save auto-lock")
        self.auto_lock_save.clicked.connect(self.save_auto_lock)
        self.theme = QComboBox()
        for theme, label in ((Theme.SYSTEM, "Follow the system"), (Theme.LIGHT, "Light"), (Theme.DARK, "Dark")):
            self.theme.addItem(label, theme.value)
        self.theme.setCurrentIndex(self.theme.findData(prefs.theme.value))
        self.theme.currentIndexChanged.connect(self._theme_chosen)
        self.app_error = error_label()
        # Reset devnet: two clicks within a few seconds, so a stray click cannot erase the local chain.
        self.reset_devnet = QPushButton(RESET_DEVNET_TEXT)
        self.reset_devnet.setToolTip("Erase the local chain, its contracts and the demo history, and start afresh")
        self.reset_devnet.setVisible(self.services.devnet is not None)
        self.reset_devnet.clicked.connect(self._reset_devnet_clicked)
        self._devnet_armed = False
        _add_all(card, folder, open_folder, self.auto_lock, self.auto_lock_save, QLabel("Theme"), self.theme,
                 self.reset_devnet, self.app_error)  # fmt: skip
        return card

    def _reset_devnet_clicked(self) -> None:
        if not self._devnet_armed:
            self._devnet_armed = True
            self.reset_devnet.setText("Click again to erase the local chain (wallet and chats stay)")
            QTimer.singleShot(RESET_DEVNET_WINDOW_MS, self._disarm_devnet)
            return
        self._disarm_devnet()
        self.devnet_reset_requested.emit()

    def _disarm_devnet(self) -> None:
        self._devnet_armed = False
        self.reset_devnet.setText(RESET_DEVNET_TEXT)

    def save_auto_lock(self) -> None:
        """Validate the minutes and apply them to the wallet now and on later launches."""
        text = self.auto_lock.text().strip()
        if not text.isdigit() or int(text) > MAX_AUTO_LOCK_MINUTES:
            self.auto_lock.set_error(f"Enter whole minutes from 0 to {MAX_AUTO_LOCK_MINUTES}.")
            return
        minutes = int(text)
        self.services.wallet.auto_lock_seconds = minutes * 60 or None
        storage = self.services.storage
        if storage is not None:
            run_async(lambda: save_pref(storage, AUTO_LOCK_KEY, str(minutes)), name="save auto-lock",
                      busy=[self.auto_lock_save], error_label=self.app_error)  # fmt: skip

    def _theme_chosen(self) -> None:
        theme = Theme(str(self.theme.currentData()))
        self.theme_changed.emit(theme)
        storage = self.services.storage
        if storage is not None:
            run_async(lambda: save_pref(storage, THEME_KEY, theme.value), name="save theme", error_label=self.app_error)

    # -- reset ---------------------------------------------------------------------------------------------------
    def _reset_card(self) -> Card:
        card = Card("Reset the wallet")
        card.body.addWidget(role_label(
            "Deletes the wallet's key and the app password from this computer. Your funds stay on the chain, but "
            "only your recovery phrase or key can bring them back. Write it down first.", "hint"))
        self.reset_confirmation = Field(f'Type "{RESET_CONFIRMATION}" to confirm')
        self.reset_button = QPushButton("Delete the wallet from this computer")
        self.reset_button.clicked.connect(self.reset_wallet)
        self.reset_error = error_label()
        self.reset_button.setStyleSheet("color: #d64545;")
        _add_all(card, self.reset_confirmation, self.reset_button, self.reset_error)
        return card

    def reset_wallet(self) -> None:
        """Reset after the typed confirmation matches; a mismatch is said next to the field."""
        typed = self.reset_confirmation.text()
        if typed.strip().upper() != RESET_CONFIRMATION:
            self.reset_confirmation.set_error(f'Type exactly "{RESET_CONFIRMATION}" to delete the wallet.')
            return

        async def run() -> None:
            await self.services.wallet.reset(typed)
            self.reset_confirmation.edit.clear()
            self.wallet_reset.emit()

        run_async(run, name="reset wallet", busy=[self.reset_button], error_label=self.reset_error)
