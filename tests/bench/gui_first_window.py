"""Runs the desktop app (``app.gui.app.main``) and prints one JSON line when its first window has been shown.

Used by bench_startup.py (``QT_QPA_PLATFORM=offscreen python3 -m tests.bench.gui_first_window``). ``QWidget.show``
is wrapped so the first top-level window shown schedules a zero-delay timer: it fires once the event loop has
processed the show (layout, first paint), which is when a user could click. A second line after ``--idle`` s
gives the idle RSS. The parent ends the process (and the devnet it started) by signalling its process group.
"""

from __future__ import annotations

import argparse
import time
from typing import Any

from tests.bench.bench_env import announce, rss_mb


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--idle", type=float, default=5.0)
    args = parser.parse_args()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QWidget

    original = QWidget.show
    state = {"shown": False}

    def idle_report() -> None:
        announce({"event": "idle", "rss_mb": rss_mb()})

    def shown() -> None:
        announce({"event": "window", "monotonic": time.monotonic(), "rss_mb": rss_mb()})
        QTimer.singleShot(int(args.idle * 1000), idle_report)

    def show(self: QWidget, *a: Any) -> None:
        original(self, *a)
        if not state["shown"] and self.isWindow():
            state["shown"] = True
            QTimer.singleShot(0, shown)

    QWidget.show = show  # type: ignore[method-assign]
    from app.gui.app import main as gui_main

    gui_main([])


if __name__ == "__main__":
    main()
