"""GUI tests run offscreen, and their async tests run on a qasync loop driven by Qt."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication

from app.gui.gc_guard import MainThreadGc
from app.gui.refcount_guard import pin_singletons

# Before any Qt call, as the app does: PySide6 6.12 on CPython 3.11 leaks references to None (see refcount_guard).
pin_singletons()

def _qasync_loop() -> asyncio.AbstractEventLoop:
    import qasync

    app = QApplication.instance() or QApplication([])
    return qasync.QEventLoop(app)  # type: ignore[no-any-return]


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> Mapping[str, Callable[[], Any]]:
    """Async GUI tests get a qasync event loop, the same kind the app runs on."""
    return {"qasync": _qasync_loop}


@pytest.fixture(autouse=True)
def main_thread_gc() -> Iterator[None]:
    """Garbage-collect only on the GUI thread during each test and at its end, as the app does (MainThreadGc).

    Qt objects caught in reference cycles would otherwise be freed by whichever thread next triggers the cyclic GC
    (e.g. a devnet worker thread); a QObject destroyed off its thread leaves its timers registered, and Qt then
    loses events or crashes delivering them.
    """
    guard = MainThreadGc()
    yield
    guard.stop()
    guard.deleteLater()
