"""GUI tests run offscreen, and their async tests run on a qasync loop driven by Qt."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable, Mapping
from typing import Any

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication


def _qasync_loop() -> asyncio.AbstractEventLoop:
    import qasync

    app = QApplication.instance() or QApplication([])
    return qasync.QEventLoop(app)  # type: ignore[no-any-return]


def pytest_asyncio_loop_factories(config: pytest.Config, item: pytest.Item) -> Mapping[str, Callable[[], Any]]:
    """Async GUI tests get a qasync event loop, the same kind the app runs on."""
    return {"qasync": _qasync_loop}
