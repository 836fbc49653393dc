"""Collect each test's widgets on the GUI thread at teardown (a QObject freed by a worker thread's GC crashes Qt)."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def collect_widgets_on_gui_thread() -> Iterator[None]:
    yield
    gc.collect()
