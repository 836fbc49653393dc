"""Runs the desktop app (``app.gui.app.main``) and prints one JSON line at its first window and one when it is usable.

Used by bench_startup.py (``QT_QPA_PLATFORM=offscreen python3 -m tests.bench.gui_first_window``).

- ``{"event": "window"}``: the first top-level ``QWidget.show`` (the start-up screen listing service steps) has
  been processed by the event loop: ``show`` is wrapped to schedule a zero-delay timer, which fires once layout and
  first paint are done.
- ``{"event": "usable", "view": ...}``: the window a person can act in is on screen. That is when
  ``AppController.route()`` has returned and the event loop has processed the show it made (the same zero-delay
  timer). Only what the entry screens need is up by then: storage, the saved preferences and the wallet's state. The
  chain (the embedded devnet with its demo marketplace and local model, or the configured RPC) and the HTTP API are
  still starting behind the screen, and their steps may be missing from ``steps_s``. The view is the setup wizard
  with its first page loaded (``SetupWizardView.start`` done; a fresh data folder) or the unlock screen with its
  password field focused (a wallet on disk). With a wallet from the environment it is the main window, and there
  ``route()`` waits for the chain side first. ``interactive`` says the view is visible and enabled. ``steps_s``
  gives the seconds of each start-up step finished so far (the ServiceState events the start-up screen lists).
  ``marks`` gives two times on the monotonic clock, which parent and child share: when the services started being
  built (the node's modules are imported by then) and when routing began (storage and preferences loaded). Before
  that the start-up screen only shows progress: nothing in it can be used except Retry after a failure.

``AppController.route`` is wrapped when ``app.gui.controller`` is first imported (a meta-path hook), so the app
imports exactly what it would without the benchmark, in the same order. A third line after ``--idle`` s gives the
idle RSS. The parent ends the process (and the devnet it started) by signalling its process group.
"""

from __future__ import annotations

import argparse
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import time
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from tests.bench.bench_env import announce, rss_mb


class PatchOnImport(importlib.abc.MetaPathFinder):
    """Runs ``patch(module)`` right after ``name`` is first imported (by whoever imports it, whenever)."""

    def __init__(self, name: str, patch: Callable[[ModuleType], None]) -> None:
        self.name, self.patch = name, patch

    def find_spec(self, fullname: str, path: Sequence[str] | None,
                  target: ModuleType | None = None) -> importlib.machinery.ModuleSpec | None:
        if fullname != self.name:
            return None
        sys.meta_path.remove(self)  # once, and so the lookup below finds the real spec
        spec = importlib.util.find_spec(fullname)
        if spec is None or spec.loader is None:
            return spec
        loader, patch = spec.loader, self.patch
        exec_module = loader.exec_module

        def exec_and_patch(module: ModuleType) -> None:
            exec_module(module)
            patch(module)

        loader.exec_module = exec_and_patch  # type: ignore[method-assign]
        return spec


def usable_view(controller: Any) -> tuple[str, bool]:
    """Which view the controller routed to, and whether it is visible and enabled."""
    main = controller.main
    if main is not None and main.isVisible():
        return "main window", main.isEnabled()
    entry = controller.entry
    current = entry.currentWidget()
    view = "setup wizard" if current is entry.wizard else "unlock" if current is entry.unlock else "start-up screen"
    return view, entry.isVisible() and current.isVisible() and current.isEnabled()


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

    def show(self: QWidget, *a: Any) -> None:
        original(self, *a)
        if not state["shown"] and self.isWindow():
            state["shown"] = True
            QTimer.singleShot(0, shown)

    steps: dict[str, float] = {}  # service step → seconds, as the start-up screen lists them
    marks: dict[str, float] = {}  # phase → monotonic time it began (one clock for parent and child)

    def usable(controller: Any) -> None:
        view, interactive = usable_view(controller)
        announce({"event": "usable", "view": view, "interactive": interactive, "monotonic": time.monotonic(),
                  "rss_mb": rss_mb(), "steps_s": steps, "marks": marks})
        QTimer.singleShot(int(args.idle * 1000), idle_report)

    def patch_controller(module: ModuleType) -> None:
        route = module.AppController.route

        async def routed(self: Any) -> None:
            marks.setdefault("route", time.monotonic())
            await route(self)
            QTimer.singleShot(0, lambda: usable(self))

        module.AppController.route = routed
        build_services = module.AppController._build_services

        def build_and_listen(self: Any) -> Any:
            from app.events import ServiceState

            marks.setdefault("services", time.monotonic())  # the node's modules are imported by now
            services = build_services(self)

            def step(event: ServiceState) -> None:
                if event.state in ("running", "failed") and event.seconds:
                    steps[event.service] = round(event.seconds, 2)

            services.bus.subscribe(ServiceState, step)
            return services

        module.AppController._build_services = build_and_listen

    QWidget.show = show  # type: ignore[method-assign]
    sys.meta_path.insert(0, PatchOnImport("app.gui.controller", patch_controller))
    from app.gui.app import main as gui_main

    gui_main([])


if __name__ == "__main__":
    main()
