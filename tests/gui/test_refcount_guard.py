"""Thousands of Qt calls must not exhaust the references to None (PySide6 6.12 on CPython 3.11)."""

from __future__ import annotations

import sys

import pytest
from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot

from app.gui.refcount_guard import PIN, pin_singletons


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from CPython 3.12")
def test_none_keeps_its_pinned_references_through_many_void_qt_calls(qtbot: QtBot) -> None:
    pin_singletons()  # idempotent: the GUI test support already pinned
    label = QLabel()
    qtbot.addWidget(label)
    for i in range(20_000):  # more void calls than an unpinned None has references (~7,000 at start)
        label.setText(str(i))
    assert sys.getrefcount(None) > PIN // 2
    assert label.text() == "19999"


def test_pinning_happens_once_per_process() -> None:
    pin_singletons()
    assert pin_singletons() is False
