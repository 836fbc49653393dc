"""The conversation list: New, search across titles and content, chats grouped by date, rename and delete."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.storage.dates import group_by_date
from app.storage.records import Chat, SearchHit

CHAT_ID_ROLE = Qt.ItemDataRole.UserRole


class ConversationList(QWidget):
    """Shows chats (or search hits); the pane does the storage work when a signal fires.

    Signals:
        chat_selected(str): a chat id was picked
        new_requested(): "New chat"
        rename_requested(str, str): chat id and the edited title
        delete_requested(str): chat id
        search_changed(str): the search text (empty = show all chats)
    """

    chat_selected = Signal(str)
    new_requested = Signal()
    rename_requested = Signal(str, str)
    delete_requested = Signal(str)
    search_changed = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMinimumWidth(230)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        self.new_button = QPushButton("New chat")
        self.new_button.setProperty("role", "primary")
        self.new_button.clicked.connect(self.new_requested)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Search chats (Ctrl+K)")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(lambda text: self.search_changed.emit(text.strip()))
        self.tree = QTreeWidget()
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(6)
        self.tree.itemSelectionChanged.connect(self._selected)
        self.tree.itemChanged.connect(self._renamed)
        buttons = QHBoxLayout()
        self.rename_button = QPushButton("Rename")
        self.rename_button.clicked.connect(self.start_rename)
        self.delete_button = QPushButton("Delete")
        self.delete_button.clicked.connect(self._delete)
        buttons.addWidget(self.rename_button)
        buttons.addWidget(self.delete_button)
        layout.addWidget(self.new_button)
        layout.addWidget(self.search)
        layout.addWidget(self.tree, 1)
        layout.addLayout(buttons)
        self._filling = False

    def _fill(self, groups: Sequence[tuple[str, Sequence[tuple[str, str, str]]]], select: str | None) -> None:
        self._filling = True
        try:
            self.tree.clear()
            for heading, rows in groups:
                group = QTreeWidgetItem([heading])
                group.setFlags(Qt.ItemFlag.ItemIsEnabled)
                font = group.font(0)
                font.setBold(True)
                group.setFont(0, font)
                self.tree.addTopLevelItem(group)
                for chat_id, title, tooltip in rows:
                    item = QTreeWidgetItem([title])
                    item.setData(0, CHAT_ID_ROLE, chat_id)
                    item.setToolTip(0, tooltip)
                    item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
                                  | Qt.ItemFlag.ItemIsEditable)
                    group.addChild(item)
                    if chat_id == select:
                        item.setSelected(True)
                group.setExpanded(True)
        finally:
            self._filling = False

    def show_chats(self, chats: Sequence[Chat], select: str | None = None, now: dt.datetime | None = None) -> None:
        """List chats grouped Today / Yesterday / Previous 7 days / …"""
        groups = [(label, [(c.id, c.title, c.title) for c in items]) for label, items in group_by_date(chats, now)]
        self._fill(groups, select)

    def show_hits(self, hits: Sequence[SearchHit]) -> None:
        """List search results: one row per chat, the first matching snippet as tooltip."""
        seen: dict[str, tuple[str, str, str]] = {}
        for hit in hits:
            seen.setdefault(hit.chat_id, (hit.chat_id, hit.title, hit.snippet))
        self._fill([(f"{len(seen)} matching chats", list(seen.values()))], None)

    def _groups(self) -> list[QTreeWidgetItem]:
        items = (self.tree.topLevelItem(g) for g in range(self.tree.topLevelItemCount()))
        return [item for item in items if item is not None]

    def _chat_items(self) -> list[QTreeWidgetItem]:
        children = (group.child(i) for group in self._groups() for i in range(group.childCount()))
        return [item for item in children if item is not None]

    def chat_ids(self) -> list[str]:
        """The chat ids listed, top to bottom."""
        return [str(item.data(0, CHAT_ID_ROLE)) for item in self._chat_items()]

    def group_labels(self) -> list[str]:
        """The group headings, top to bottom."""
        return [group.text(0) for group in self._groups()]

    def current_chat_id(self) -> str | None:
        """The selected chat id, if any."""
        items = self.tree.selectedItems()
        value = items[0].data(0, CHAT_ID_ROLE) if items else None
        return value if isinstance(value, str) else None

    def select(self, chat_id: str) -> None:
        """Select ``chat_id`` (emits chat_selected)."""
        for item in self._chat_items():
            if item.data(0, CHAT_ID_ROLE) == chat_id:
                self.tree.setCurrentItem(item)
                return

    def start_rename(self) -> None:
        """Edit the selected chat's title in place."""
        items = self.tree.selectedItems()
        if items:
            self.tree.editItem(items[0], 0)

    def _selected(self) -> None:
        chat_id = self.current_chat_id()
        if chat_id is not None and not self._filling:
            self.chat_selected.emit(chat_id)

    def _renamed(self, item: QTreeWidgetItem, _column: int) -> None:
        chat_id = item.data(0, CHAT_ID_ROLE)
        title = item.text(0).strip()
        if not self._filling and isinstance(chat_id, str) and title:
            self.rename_requested.emit(chat_id, title)

    def _delete(self) -> None:
        chat_id = self.current_chat_id()
        if chat_id is not None:
            self.delete_requested.emit(chat_id)
