"""The scrolling transcript: latest turns as widgets, older ones on demand, auto-scroll until the user scrolls up."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QPushButton, QScrollArea, QVBoxLayout, QWidget

from app.gui.chat.message_widget import MessageWidget
from app.storage.records import Message, Receipt

PAGE = 60  # turns built as widgets when a chat opens; "Show earlier" adds a page at a time
_BOTTOM_SLACK = 24  # px: "at the bottom" within this distance, so a partial line does not stop following


class TranscriptView(QScrollArea):
    """Message widgets in a column. Opening a 5,000-message chat builds only the last ``PAGE`` of them.

    Signals:
        edit_requested(int): a user message's Edit was clicked
    """

    edit_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWidgetResizable(True)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFrameShape(QScrollArea.Shape.NoFrame)
        self._content = QWidget()
        self._column = QVBoxLayout(self._content)
        self._column.setContentsMargins(16, 12, 16, 12)
        self._column.setSpacing(8)
        self.earlier_button = QPushButton("Show earlier messages")
        self.earlier_button.clicked.connect(self.show_earlier)
        self.earlier_button.hide()
        self._column.addWidget(self.earlier_button)
        self._column.addStretch(1)
        self.setWidget(self._content)
        self._messages: list[Message] = []
        self._receipts: Mapping[int, Receipt] = {}
        self._first_shown = 0
        self.widgets: list[MessageWidget] = []
        self.following = True
        bar = self.verticalScrollBar()
        bar.valueChanged.connect(self._on_scrolled)
        bar.rangeChanged.connect(self._on_range)

    # -- auto-scroll -----------------------------------------------------------------------------------------
    def _on_scrolled(self, value: int) -> None:
        self.following = value >= self.verticalScrollBar().maximum() - _BOTTOM_SLACK

    def _on_range(self, _minimum: int, maximum: int) -> None:
        if self.following:
            self.verticalScrollBar().setValue(maximum)

    def scroll_to_bottom(self) -> None:
        """Jump to the newest turn and follow new text again."""
        self.following = True
        self.verticalScrollBar().setValue(self.verticalScrollBar().maximum())

    # -- content ---------------------------------------------------------------------------------------------
    def set_messages(self, messages: Sequence[Message], receipts: Mapping[int, Receipt]) -> None:
        """Replace the transcript: the last ``PAGE`` turns become widgets, the rest wait for 'Show earlier'."""
        for widget in self.widgets:
            widget.deleteLater()
        self.widgets = []
        self._messages = list(messages)
        self._receipts = receipts
        self._first_shown = max(0, len(self._messages) - PAGE)
        self._content.setUpdatesEnabled(False)
        try:
            for message in self._messages[self._first_shown:]:
                self._insert(len(self.widgets), message)
        finally:
            self._content.setUpdatesEnabled(True)
        self.earlier_button.setVisible(self._first_shown > 0)
        self.scroll_to_bottom()

    def show_earlier(self) -> None:
        """Build the previous page of turns above the current ones, keeping the view where it was."""
        start = max(0, self._first_shown - PAGE)
        bar = self.verticalScrollBar()
        from_bottom = bar.maximum() - bar.value()
        self.following = False
        for offset, message in enumerate(self._messages[start:self._first_shown]):
            self._insert(offset, message)
        self._first_shown = start
        self.earlier_button.setVisible(start > 0)
        self._content.adjustSize()
        bar.setValue(bar.maximum() - from_bottom)

    def _insert(self, index: int, message: Message) -> MessageWidget:
        widget = MessageWidget(message, self._receipts.get(message.id))
        widget.edit_requested.connect(self.edit_requested)
        self.widgets.insert(index, widget)
        self._column.insertWidget(index + 1, widget)  # +1: the 'Show earlier' button sits first
        return widget

    def append_message(self, message: Message) -> MessageWidget:
        """Add a new turn at the bottom."""
        self._messages.append(message)
        return self._insert(len(self.widgets), message)

    def hidden_count(self) -> int:
        """Older turns not built yet."""
        return self._first_shown

    def widget_for(self, message_id: int) -> MessageWidget | None:
        """The widget showing ``message_id``, if built."""
        return next((w for w in self.widgets if w.message_id == message_id), None)
