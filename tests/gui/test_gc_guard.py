"""The GUI's garbage collection: generational passes on the GUI thread, and the start-up heap frozen once."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from app import heap
from app.gui.gc_guard import OLDER_EVERY, MainThreadGc


@pytest.fixture
def guard() -> Iterator[MainThreadGc]:
    guard = MainThreadGc(interval_ms=3_600_000)  # ticks are driven by hand below
    yield guard
    guard.stop()
    guard.deleteLater()


def test_full_passes_come_once_per_hundred_ticks_not_every_tenth(guard: MainThreadGc) -> None:
    passes: Counter[int] = Counter()

    def count(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            passes[info["generation"]] += 1

    gc.collect()  # every generation's count back to zero
    gc.callbacks.append(count)
    try:
        for _ in range((OLDER_EVERY + 1) ** 2):
            guard.collect()
    finally:
        gc.callbacks.remove(count)

    # A full pass walks the whole heap (55-83 ms on the GUI thread with the app loaded); younger ones are cheap.
    # 10 youngest passes, then one of the middle generation; 10 of those, then one full pass.
    assert passes == {0: OLDER_EVERY * (OLDER_EVERY + 1), 1: OLDER_EVERY, 2: 1}


def test_the_start_up_heap_is_frozen_after_the_delay_with_its_garbage_freed_first(
    guard: MainThreadGc, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(heap, "_heap_frozen", False)
    gc.unfreeze()  # an earlier test's provider node may have frozen this process's heap already

    class Widgetish:
        pass

    garbage = Widgetish()
    garbage.me = garbage  # type: ignore[attr-defined]
    alive = [Widgetish()]
    del garbage
    try:
        guard.freeze_startup_heap_soon(delay_ms=10)
        assert gc.get_freeze_count() == 0  # not at once: the main window's first refresh runs first
        qtbot.waitUntil(lambda: gc.get_freeze_count() > 0, timeout=5_000)
        assert not any(type(o) is Widgetish and o is not alive[0] for o in gc.get_objects())  # freed, not pinned
        assert not heap.freeze_startup_heap()  # once per process
    finally:
        gc.unfreeze()
