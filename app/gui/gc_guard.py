"""Run Python's cyclic garbage collector on the GUI thread only, so Qt objects are never destroyed off-thread."""

from __future__ import annotations

import gc

from PySide6.QtCore import QObject, QTimer

COLLECT_INTERVAL_MS = 2_000


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
        """Collect the youngest generation cheaply most of the time; everything when asked explicitly."""
        return gc.collect(0) + (gc.collect() if gc.get_count()[1] > 10 else 0)

    def stop(self) -> None:
        """Collect once more and give automatic GC back (tests, shutdown)."""
        self.timer.stop()
        gc.collect()
        if self._was_enabled:
            gc.enable()
