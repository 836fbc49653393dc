"""One turn of the transcript: role, markdown body with monospace code blocks (Copy), notices and the receipt."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QFontDatabase, QGuiApplication
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QToolButton, QVBoxLayout, QWidget

from app.gui.chat.blocks import Block, split_blocks
from app.gui.chat.receipt_text import receipt_line
from app.gui.widgets import role_label
from app.storage.records import Message, Receipt

ROLE_TITLES = {"user": "You", "assistant": "Assistant", "system": "System", "tool": "Tool"}


class CodeBlock(QFrame):
    """A fenced code block: language tag, Copy button, monospace selectable text."""

    def __init__(self, block: Block, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("codeBlock")
        self.setStyleSheet("QFrame#codeBlock { border: 1px solid palette(mid); border-radius: 6px;"
                           " background: palette(alternate-base); }")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 8)
        header = QHBoxLayout()
        self.lang = role_label(block.lang or "code", "hint", wrap=False)
        self.copy_button = QToolButton()
        self.copy_button.setText("Copy")
        self.copy_button.setToolTip("Copy this code block")
        self.copy_button.clicked.connect(self.copy)
        header.addWidget(self.lang)
        header.addStretch(1)
        header.addWidget(self.copy_button)
        layout.addLayout(header)
        self.code = QLabel()
        self.code.setTextFormat(Qt.TextFormat.PlainText)
        self.code.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        self.code.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(self.code)
        self.set_block(block)

    def set_block(self, block: Block) -> None:
        """Show (new) text of the block."""
        self.block = block
        self.code.setText(block.text)

    def copy(self) -> None:
        """Put the code (without fences) on the clipboard."""
        QGuiApplication.clipboard().setText(self.block.text)
        self.copy_button.setText("Copied")


def _prose_label() -> QLabel:
    label = QLabel()
    label.setTextFormat(Qt.TextFormat.MarkdownText)
    label.setWordWrap(True)
    label.setOpenExternalLinks(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
    return label


class MessageBody(QWidget):
    """Renders markdown as prose labels and code blocks; re-rendering reuses widgets whose block is unchanged,
    so a streaming answer only re-lays-out its last block on each flush."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self._layout.setSpacing(6)
        self.blocks: list[Block] = []
        self.widgets: list[QWidget] = []

    def set_markdown(self, text: str) -> None:
        """Show ``text``; only blocks that changed are touched."""
        new = split_blocks(text)
        keep = 0
        while keep < min(len(new), len(self.blocks)) and new[keep] == self.blocks[keep]:
            keep += 1
        for i in range(keep, len(new)):
            block = new[i]
            if i < len(self.widgets) and self.blocks[i].is_code == block.is_code:
                self._update(self.widgets[i], block)
                continue
            for stale in self.widgets[i:]:
                stale.deleteLater()
            del self.widgets[i:]
            self.widgets.append(self._create(block))
            self._layout.addWidget(self.widgets[-1])
        for stale in self.widgets[len(new):]:
            stale.deleteLater()
        del self.widgets[len(new):]
        self.blocks = new

    @staticmethod
    def _create(block: Block) -> QWidget:
        if block.is_code:
            return CodeBlock(block)
        label = _prose_label()
        label.setText(block.text)
        return label

    @staticmethod
    def _update(widget: QWidget, block: Block) -> None:
        if isinstance(widget, CodeBlock):
            widget.set_block(block)
        elif isinstance(widget, QLabel):
            widget.setText(block.text)

    def code_blocks(self) -> list[CodeBlock]:
        """The code blocks shown, in order."""
        return [w for w in self.widgets if isinstance(w, CodeBlock)]


class MessageWidget(QFrame):
    """A message with its actions: Edit (user turns), notices and the receipt line (assistant turns).

    Signals:
        edit_requested(int): the message id whose text the person wants to change and resend
    """

    edit_requested = Signal(int)

    def __init__(self, message: Message, receipt: Receipt | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.message_id = message.id
        self.role = message.role
        self.setProperty("chatRole", message.role)
        self.setObjectName("message")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        header = QHBoxLayout()
        self.title = role_label(ROLE_TITLES.get(message.role, message.role), "hint", wrap=False)
        header.addWidget(self.title)
        header.addStretch(1)
        self.status = role_label("", "hint", wrap=False)
        header.addWidget(self.status)
        if message.role == "user":
            self.edit_button = QToolButton()
            self.edit_button.setText("Edit")
            self.edit_button.setToolTip("Change this message and resend the conversation from here")
            self.edit_button.clicked.connect(lambda: self.edit_requested.emit(self.message_id))
            header.addWidget(self.edit_button)
        layout.addLayout(header)
        self.body = MessageBody()
        layout.addWidget(self.body)
        self.notices = QVBoxLayout()
        layout.addLayout(self.notices)
        self.receipt_label = role_label("", "hint")
        self.receipt_label.setObjectName("receipt")
        self.receipt_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.receipt_label.hide()
        layout.addWidget(self.receipt_label)
        self.text = message.content
        self.body.set_markdown(self.text)
        if receipt is not None:
            self.set_receipt(receipt)

    def append_text(self, delta: str) -> None:
        """Add streamed text (called once per batch, not per token)."""
        self.text += delta
        self.body.set_markdown(self.text)

    def add_notice(self, text: str) -> None:
        """An inline line inside the answer (failover, stop)."""
        label = role_label(f"⚠ {text}", "hint")
        label.setObjectName("notice")
        self.notices.addWidget(label)

    def notice_texts(self) -> list[str]:
        """The notices shown, without the marker."""
        texts = []
        for i in range(self.notices.count()):
            item = self.notices.itemAt(i)
            widget = item.widget() if item is not None else None
            if isinstance(widget, QLabel):
                texts.append(widget.text().removeprefix("⚠ "))
        return texts

    def set_status(self, text: str) -> None:
        """A short state next to the role: 'waiting for the first token…', 'stopped'."""
        self.status.setText(text)

    def set_receipt(self, receipt: Receipt) -> None:
        """Show the receipt line (and a failover note stored with it)."""
        if receipt.failover_note and not self.notice_texts():
            for line in receipt.failover_note.split("\n"):
                self.add_notice(line)
        self.receipt_label.setText(receipt_line(receipt))
        self.receipt_label.show()
