"""Edit models-config.json through a form, validated like the node loads it, with a "test backend" button."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.config.models_config import (
    CAPACITY_POLICIES,
    SERVED_API_TYPES,
    UNSUPPORTED_API_TYPES,
    parse_entry,
    parse_models_config,
)
from app.errors import AppError, ConfigError
from app.gui.async_slot import run_async
from app.gui.widgets import error_label, role_label
from app.paths import write_private_file
from app.router.provider.backends import OpenAIBackend

COLUMNS = ("Model id", "Name", "API type", "API URL", "Slots", "Policy")


def read_entries(path: Path) -> list[dict[str, Any]]:
    """The raw entries of a models-config.json (V2 list or legacy map); [] when the file does not exist."""
    if not path.exists():
        return []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ConfigError(f"Cannot read {path}: {e}. Fix or delete the file, then reopen this page.") from e
    parse_models_config(data, path.name)  # same validation as the node
    if "models" in data:
        return [dict(e) for e in data["models"]]
    return [{"modelId": k, **v} for k, v in data.items() if not k.startswith(("$", "_"))]


def write_entries(path: Path, entries: list[dict[str, Any]]) -> None:
    """Validate and write the V2 form (private file: entries may carry API keys)."""
    document = {"$schema": "./internal/config/models-config-schema.json", "models": entries}
    parse_models_config(document, path.name)
    write_private_file(path, (json.dumps(document, indent=2) + "\n").encode("utf-8"))  # StorageError says why not


class ModelsConfigEditor(QWidget):
    """A table of entries and a form for the selected one; Save writes the file, Test sends a tiny prompt."""

    def __init__(self, path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.path = path
        self.entries: list[dict[str, Any]] = []
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.model_id = QLineEdit()
        self.model_id.setPlaceholderText("0x… the on-chain model id (64 hex digits)")
        self.name = QLineEdit()
        self.name.setPlaceholderText("the model name the backend expects, e.g. llama3:8b")
        self.api_type = QComboBox()
        self.api_type.addItems(sorted(SERVED_API_TYPES) + sorted(UNSUPPORTED_API_TYPES))
        self.api_url = QLineEdit()
        self.api_url.setPlaceholderText("http://127.0.0.1:8080/v1")
        self.api_key = QLineEdit()
        self.api_key.setEchoMode(QLineEdit.EchoMode.Password)
        self.api_key.setPlaceholderText("optional")
        self.slots = QSpinBox()
        self.slots.setRange(0, 1024)
        self.slots.setSpecialValueText("unlimited")
        self.policy = QComboBox()
        self.policy.addItems(CAPACITY_POLICIES)
        form = QFormLayout()
        for label, widget in (("Model id", self.model_id), ("Name", self.name), ("API type", self.api_type),
                              ("API URL", self.api_url), ("API key", self.api_key), ("Concurrent slots", self.slots),
                              ("Capacity policy", self.policy)):
            form.addRow(label + ":", widget)
        self.save_button = QPushButton("Add / update entry")
        self.remove_button = QPushButton("Remove entry")
        self.write_button = QPushButton("Save file")
        self.write_button.setProperty("role", "primary")
        self.test_button = QPushButton("Test backend")
        self.result = role_label("", "ok")
        self.error = error_label()
        buttons = QHBoxLayout()
        for b in (self.save_button, self.remove_button, self.test_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.write_button)
        layout = QVBoxLayout(self)
        layout.addWidget(role_label(f"Backends this node serves: {path}", "hint"))
        layout.addWidget(self.table, 1)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.result)
        layout.addWidget(self.error)
        self.table.itemSelectionChanged.connect(self._selected)
        self.save_button.clicked.connect(self._upsert_clicked)
        self.remove_button.clicked.connect(self.remove_selected)
        self.write_button.clicked.connect(lambda: run_async(self.save, name="models-config-save",
                                                            busy=[self.write_button], error_label=self.error))
        self.test_button.clicked.connect(lambda: run_async(self.test_backend, name="models-config-test",
                                                           busy=[self.test_button], error_label=self.error))

    async def load(self) -> None:
        """Read the file (off the loop) into the table."""
        self.entries = await asyncio.to_thread(read_entries, self.path)
        self._show()

    def _show(self) -> None:
        self.table.setRowCount(len(self.entries))
        for r, e in enumerate(self.entries):
            texts = (e.get("modelId", ""), e.get("modelName", ""), e.get("apiType", ""), e.get("apiUrl", ""),
                     str(e.get("concurrentSlots", 0) or "unlimited"), e.get("capacityPolicy", "simple"))
            for c, text in enumerate(texts):
                self.table.setItem(r, c, QTableWidgetItem(str(text)))

    def _selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return
        e = self.entries[rows[0].row()]
        self.model_id.setText(e.get("modelId", ""))
        self.name.setText(e.get("modelName", ""))
        self.api_type.setCurrentText(e.get("apiType", "openai"))
        self.api_url.setText(e.get("apiUrl", ""))
        self.api_key.setText(e.get("apiKey", "") or "")
        self.slots.setValue(int(e.get("concurrentSlots", 0) or 0))
        self.policy.setCurrentText(e.get("capacityPolicy", "simple"))

    def form_entry(self) -> dict[str, Any]:
        """The form as a raw entry, validated (ConfigError names the field)."""
        entry: dict[str, Any] = {
            "modelId": self.model_id.text().strip(), "modelName": self.name.text().strip(),
            "apiType": self.api_type.currentText(), "apiUrl": self.api_url.text().strip(),
            "concurrentSlots": self.slots.value(), "capacityPolicy": self.policy.currentText(),
        }
        if self.api_key.text():
            entry["apiKey"] = self.api_key.text()
        parse_entry(entry, "this entry")
        return entry

    def upsert(self) -> None:
        """Add the form's entry, or replace the entry with the same model id."""
        entry = self.form_entry()
        same = [i for i, e in enumerate(self.entries) if str(e.get("modelId", "")).lower() == entry["modelId"].lower()]
        if same:
            self.entries[same[0]] = entry
        else:
            self.entries.append(entry)
        self._show()
        self.result.setText("Entry updated; Save file to apply it (restart the provider to serve it).")

    def _upsert_clicked(self) -> None:
        try:
            self.upsert()
        except ConfigError as e:
            self.error.setText(e.user_message)
            self.error.show()

    def remove_selected(self) -> None:
        rows = self.table.selectionModel().selectedRows()
        if rows:
            del self.entries[rows[0].row()]
            self._show()

    async def save(self) -> None:
        """Validate every entry and write the file."""
        await asyncio.to_thread(write_entries, self.path, self.entries)
        self.result.setText(f"Saved {len(self.entries)} entr{'y' if len(self.entries) == 1 else 'ies'} to "
                            f"{self.path.name}.")

    async def test_backend(self) -> str:
        """Send a tiny prompt to the form's backend; shows and returns 'TTFT … · … tok/s'."""
        entry = self.form_entry()
        self.result.setText("testing…")
        try:
            async with OpenAIBackend(entry["modelName"], entry["apiUrl"], entry.get("apiKey"), timeout=30) as backend:
                stats = await backend.check()
        except AppError:
            self.result.clear()
            raise
        text = (f"Backend answered: TTFT {stats.ttft_ms or 0:,.0f} ms · {stats.tps:,.1f} tok/s · "
                f"{stats.output_tokens} tokens")
        self.result.setText(text)
        return text
