"""Light and dark themes: follow the system by default, switchable at run time."""

from __future__ import annotations

import enum

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication


class Theme(enum.StrEnum):
    """The user's theme choice, as stored in settings."""

    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


ACCENT = "#2f7de1"

_COMMON_QSS = """
QListWidget#sidebar { border: none; font-size: 14px; padding-top: 8px; }
QListWidget#sidebar::item { padding: 10px 14px; border-radius: 6px; margin: 2px 8px; }
QListWidget#sidebar::item:selected { background: %(accent)s; color: white; }
QLabel[role="title"] { font-size: 20px; font-weight: 600; }
QLabel[role="hint"] { color: %(muted)s; }
QLabel[role="error"] { color: #d64545; }
QLabel[role="ok"] { color: #2e9d57; }
QFrame[role="card"] { border: 1px solid %(border)s; border-radius: 8px; }
QPushButton[role="primary"] { background: %(accent)s; color: white; border-radius: 6px; padding: 6px 14px; }
QPushButton[role="primary"]:disabled { background: %(border)s; color: %(muted)s; }
"""


def _palette(dark: bool) -> QPalette:
    palette = QPalette()
    if dark:
        colors = {
            QPalette.ColorRole.Window: "#1f2125",
            QPalette.ColorRole.WindowText: "#e6e6e6",
            QPalette.ColorRole.Base: "#17181b",
            QPalette.ColorRole.AlternateBase: "#23252a",
            QPalette.ColorRole.Text: "#e6e6e6",
            QPalette.ColorRole.Button: "#2a2d33",
            QPalette.ColorRole.ButtonText: "#e6e6e6",
            QPalette.ColorRole.ToolTipBase: "#2a2d33",
            QPalette.ColorRole.ToolTipText: "#e6e6e6",
            QPalette.ColorRole.PlaceholderText: "#8a8f98",
        }
    else:
        colors = {
            QPalette.ColorRole.Window: "#f5f6f8",
            QPalette.ColorRole.WindowText: "#1d1f23",
            QPalette.ColorRole.Base: "#ffffff",
            QPalette.ColorRole.AlternateBase: "#f0f1f4",
            QPalette.ColorRole.Text: "#1d1f23",
            QPalette.ColorRole.Button: "#ffffff",
            QPalette.ColorRole.ButtonText: "#1d1f23",
            QPalette.ColorRole.ToolTipBase: "#ffffff",
            QPalette.ColorRole.ToolTipText: "#1d1f23",
            QPalette.ColorRole.PlaceholderText: "#8a8f98",
        }
    for role, color in colors.items():
        palette.setColor(role, QColor(color))
    palette.setColor(QPalette.ColorRole.Highlight, QColor(ACCENT))
    palette.setColor(QPalette.ColorRole.HighlightedText, QColor("#ffffff"))
    palette.setColor(QPalette.ColorRole.Link, QColor(ACCENT))
    return palette


def system_prefers_dark(app: QApplication) -> bool:
    """Whether the desktop asks for a dark colour scheme."""
    return app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply_theme(app: QApplication, theme: Theme) -> bool:
    """Apply ``theme`` to the whole application; returns True when the result is dark."""
    dark = system_prefers_dark(app) if theme is Theme.SYSTEM else theme is Theme.DARK
    app.setStyle("Fusion")
    app.setPalette(_palette(dark))
    values = {
        "accent": ACCENT,
        "muted": "#8a8f98",
        "border": "#3a3d44" if dark else "#d9dce1",
    }
    app.setStyleSheet(_COMMON_QSS % values)
    app.setProperty("darkTheme", dark)
    return dark
