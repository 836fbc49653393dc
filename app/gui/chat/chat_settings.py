"""Per-chat settings: system prompt, temperature and max tokens (empty = the model's default)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QDoubleSpinBox, QFormLayout, QGroupBox, QPlainTextEdit, QSpinBox, QWidget

from app.storage.records import Chat


class ChatSettingsPanel(QGroupBox):
    """Edits the current chat's parameters; ``changed`` fires when editing finishes.

    Signals:
        changed(): a value was edited (the pane saves the chat)
    """

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Chat settings", parent)
        form = QFormLayout(self)
        self.system_prompt = QPlainTextEdit()
        self.system_prompt.setPlaceholderText("You are a helpful assistant.")
        self.system_prompt.setFixedHeight(64)
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(-0.1, 2.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setSpecialValueText("model default")  # shown at the minimum, stored as None
        self.max_tokens = QSpinBox()
        self.max_tokens.setRange(0, 131_072)
        self.max_tokens.setSingleStep(256)
        self.max_tokens.setSpecialValueText("model default")
        form.addRow("System prompt:", self.system_prompt)
        form.addRow("Temperature:", self.temperature)
        form.addRow("Max tokens:", self.max_tokens)
        self._loading = False
        self.temperature.editingFinished.connect(self._emit)
        self.max_tokens.editingFinished.connect(self._emit)
        self.system_prompt.textChanged.connect(self._emit)

    def _emit(self) -> None:
        if not self._loading:
            self.changed.emit()

    def load(self, chat: Chat) -> None:
        """Show ``chat``'s values."""
        self._loading = True
        try:
            self.system_prompt.setPlainText(chat.system_prompt)
            self.temperature.setValue(self.temperature.minimum() if chat.temperature is None else chat.temperature)
            self.max_tokens.setValue(chat.max_tokens or 0)
        finally:
            self._loading = False

    def values(self) -> tuple[str, float | None, int | None]:
        """(system prompt, temperature or None, max tokens or None)."""
        temperature = self.temperature.value()
        return (
            self.system_prompt.toPlainText().strip(),
            None if temperature < 0 else round(temperature, 2),
            self.max_tokens.value() or None,
        )
