"""Small building blocks shared by the panes: titled cards, inline error/hint labels and labelled fields."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHeaderView,
    QLabel,
    QLineEdit,
    QScrollArea,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)


def role_label(text: str = "", role: str = "", *, wrap: bool = True) -> QLabel:
    """A QLabel styled by the theme's ``role`` property ("title", "hint", "error", "ok")."""
    label = QLabel(text)
    label.setProperty("role", role)
    label.setWordWrap(wrap)
    return label


def error_label() -> QLabel:
    """An inline error message, hidden until there is something to say."""
    label = role_label(role="error")
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.hide()
    return label


def show_error(label: QLabel, message: str | None) -> None:
    """Show ``message`` in an inline error label, or hide the label when None/empty."""
    label.setText(message or "")
    label.setVisible(bool(message))


class Card(QFrame):
    """A bordered box with a heading, for one group of figures or controls."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "card")
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(14, 10, 14, 12)
        heading = role_label(title, "hint", wrap=False)
        heading.setObjectName("cardTitle")
        self.body.addWidget(heading)


class Field(QWidget):
    """A labelled line edit with its own inline error label directly below it."""

    def __init__(self, label: str, placeholder: str = "", *, password: bool = False) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.label = QLabel(label)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText(placeholder)
        if password:
            self.edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.label.setBuddy(self.edit)
        self.error = error_label()
        layout.addWidget(self.label)
        layout.addWidget(self.edit)
        layout.addWidget(self.error)
        self.edit.textEdited.connect(lambda _text: show_error(self.error, None))

    def text(self) -> str:
        """The text typed."""
        return self.edit.text()

    def set_error(self, message: str | None) -> None:
        """Show (or clear) the inline message next to this field."""
        show_error(self.error, message)


def data_table(headers: list[str]) -> QTableWidget:
    """A read-only table with stretched columns and whole-row selection."""
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QTableWidget.SelectionBehavior.SelectRows)
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
    table.setMinimumHeight(140)
    return table


def scroll_page(page: QWidget) -> QVBoxLayout:
    """Give ``page`` a scrolling body with the panes' margins; returns the body's layout to fill."""
    scroll = QScrollArea()
    scroll.setWidgetResizable(True)
    content = QWidget()
    scroll.setWidget(content)
    outer = QVBoxLayout(page)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(scroll)
    layout = QVBoxLayout(content)
    layout.setContentsMargins(24, 18, 24, 18)
    return layout
