"""Run Python's cyclic garbage collector on the GUI thread only, so Qt objects are never destroyed off-thread."""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

from app.heap import freeze_startup_heap

COLLECT_INTERVAL_MS = 2_000
FREEZE_DELAY_MS = 5_000
"""After the main window shows: long enough for its first refresh to settle, so its transient objects are gone."""
OLDER_EVERY = 10
"""Collect a generation once the younger one was collected this often since (CPython's own default thresholds)."""


class MainThreadGc(QObject):
    """Turns automatic GC off and collects from a GUI-thread timer instead.

    With automatic GC, a collection can start in any thread that allocates (an executor thread, the devnet's
    worker). If that frees a QObject caught in a reference cycle, Qt destroys it on the wrong thread: its timers
    stay registered and posted events go missing, which shows up as stalled awaits or a crash much later.
    """

    def __init__(self, parent: QObject | None = None, interval_ms: int = COLLECT_INTERVAL_MS) -> None:
        super().__init__(parent)
        self._was_enabled = gc.isenabled()
        gc.disable()
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.collect)
        self.timer.start()

    def collect(self) -> int:
        """Collect generation by generation, as automatic GC would: a full pass only every OLDER_EVERY² ticks."""
        _, young_passes, middle_passes = gc.get_count()
        generation = 2 if middle_passes >= OLDER_EVERY else 1 if young_passes >= OLDER_EVERY else 0
        return gc.collect(generation)

    def freeze_startup_heap_soon(self, delay_ms: int = FREEZE_DELAY_MS) -> None:
        """Once the main window is up: take what start-up built out of every later full pass (see app.heap)."""
        QTimer.singleShot(delay_ms, self, lambda: freeze_startup_heap(collect_first=True))

    def stop(self) -> None:
        """Collect once more and give automatic GC back (tests, shutdown)."""
        self.timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
