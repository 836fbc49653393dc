"""One turn of the transcript: role, markdown body with monospace code blocks (Copy), notices and the receipt."""

from __future__ import annotations

from PySide6.QtCore import Qt, QUrl, Signal
from PySide6.QtGui import (
    QColor,
    QDesktopServices,
    QFontDatabase,
    QGuiApplication,
    QPalette,
    QTextBlockFormat,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QTextBrowser, QToolButton, QVBoxLayout, QWidget

from app.gui.chat.blocks import Block, split_blocks
from app.gui.chat.receipt_text import receipt_line
from app.gui.widgets import role_label
from app.storage.records import Message, Receipt

ROLE_TITLES = {"user": "You", "assistant": "Assistant", "system": "System", "tool": "Tool"}


class MessageBody(QTextBrowser):
    """One document per message: markdown prose, monospace code blocks with a Copy link under each.

    Streaming appends are incremental: finished blocks are inserted once and only the last (still growing) block
    is replaced on each flush, so the cost of a repaint does not grow with the length of the answer. The widget
    is as tall as its document (the transcript scrolls, not the message).
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setOpenLinks(False)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        palette = self.palette()  # a palette, not a style sheet: 60 style sheets cost ~20 ms when a chat opens
        palette.setColor(QPalette.ColorRole.Base, QColor(0, 0, 0, 0))
        self.setPalette(palette)
        self.document().setDocumentMargin(2)
        self.anchorClicked.connect(self._anchor)
        self.document().documentLayout().documentSizeChanged.connect(self._fit)
        self.blocks: list[Block] = []
        self._done = 0  # blocks inserted for good
        self._tail_at = 0  # document position where the growing last block starts
        self._fit()

    def _fit(self, *_args: object) -> None:
        height = int(self.document().size().height()) + 2
        if height != self.height():
            self.setFixedHeight(height)

    def set_markdown(self, text: str) -> None:
        """Show ``text``: blocks already shown stay, the last block is re-rendered."""
        new = split_blocks(text)
        if new[: self._done] != self.blocks[: self._done]:
            self.document().clear()
            self._done, self._tail_at = 0, 0
        cursor = QTextCursor(self.document())
        cursor.setPosition(self._tail_at)
        cursor.movePosition(QTextCursor.MoveOperation.End, QTextCursor.MoveMode.KeepAnchor)
        cursor.removeSelectedText()
        finished = new[:-1] if new else []
        for index in range(self._done, len(finished)):
            self._insert(cursor, finished[index], index)
        self._done = len(finished)
        self._tail_at = cursor.position()
        if new:
            self._insert(cursor, new[-1], len(new) - 1)
        self.blocks = new

    def _insert(self, cursor: QTextCursor, block: Block, index: int) -> None:
        if cursor.position() > 0:
            cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
        if not block.is_code:
            cursor.insertMarkdown(block.text)
            return
        fmt = QTextBlockFormat()
        fmt.setBackground(self.palette().alternateBase())
        fmt.setLeftMargin(6)
        fmt.setTopMargin(4)
        fmt.setNonBreakableLines(True)
        chars = QTextCharFormat()
        chars.setFont(QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont))
        cursor.setBlockFormat(fmt)
        lines = block.text.split("\n")
        if block.lang:  # a muted language tag on the block's first line
            tag = QTextCharFormat()
            tag.setForeground(self.palette().placeholderText())
            cursor.insertText(block.lang, tag)
        else:
            cursor.insertText(lines.pop(0), chars)
        for line in lines:
            cursor.insertBlock(fmt, chars)
            cursor.insertText(line, chars)
        if block.closed:
            link = QTextCharFormat()
            link.setAnchor(True)
            link.setAnchorHref(f"copy:{index}")
            link.setForeground(self.palette().link())
            cursor.insertBlock(QTextBlockFormat(), QTextCharFormat())
            cursor.insertText("Copy code", link)
            cursor.setCharFormat(QTextCharFormat())

    def code_blocks(self) -> list[Block]:
        """The code blocks shown, in order."""
        return [b for b in self.blocks if b.is_code]

    def copy_code(self, index: int) -> None:
        """Put code block ``index`` (counted over all blocks) on the clipboard, without its fences."""
        QGuiApplication.clipboard().setText(self.blocks[index].text)

    def _anchor(self, url: QUrl) -> None:
        if url.scheme() == "copy" and url.path().isdigit() and int(url.path()) < len(self.blocks):
            self.copy_code(int(url.path()))
        elif url.scheme() in ("http", "https"):
            QDesktopServices.openUrl(url)


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
