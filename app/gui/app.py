"""The desktop app's entry point: QApplication, the qasync loop, theme, crash reporting and the app controller."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from app import paths

if TYPE_CHECKING:
    from app.gui.part2_wiring import Part2

# app.gui.prefs.SETTINGS_FILE, named here because importing that module loads the wallet (seconds, before the window).
GUI_SETTINGS_FILE = "settings.json"


def _log_to_file(argv: Sequence[str] = ()) -> Path:
    """Start the node's logging (app.bootstrap.logs) with the LOG_* settings from flags, env, .env and the GUI's
    settings file; returns the log file. Settings the controller will reject on its start-up screen fall back to
    the defaults here, and an unwritable LOG_FOLDER_PATH to the default log folder, so the log always opens."""
    from dataclasses import replace

    from app.bootstrap.logs import LogConfig, install_logging
    from app.config.settings import load_settings
    from app.errors import AppError

    try:
        config = LogConfig.from_settings(load_settings(argv, settings_path=paths.data_dir() / GUI_SETTINGS_FILE))
    except AppError:
        config = LogConfig()
    try:
        return install_logging(config, default_folder=paths.log_dir()).file
    except AppError as e:
        if config.folder is None:
            raise
        installed = install_logging(replace(config, folder=None), default_folder=paths.log_dir())
        logging.getLogger(__name__).warning("%s Logging to %s instead.", e.user_message, installed.file)
        return installed.file


def _import_node() -> None:
    """Import what the entry screens need (the wallet, storage); run on a worker thread, the import system is
    thread-safe. The chain side (web3, the router, the demo) is imported later, behind the wizard or unlock screen."""
    import app.bootstrap.services  # noqa: F401 - imported for its side effect: the module cache is warm


def _load_key_libraries() -> None:
    """Import what a first unlock or wallet import needs (eth-account, ~0.6 s); run on a worker thread once the
    wizard or the unlock screen is on screen, so it neither delays that screen nor the person's first action."""
    from app.wallet.keystore import load_key_libraries

    load_key_libraries()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the desktop app until its window closes; returns the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    # Qt is imported here, not at module level, so `mor-launch --help` and headless mode never load it.
    import qasync
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from app.gui.crash import CrashReporter
    from app.gui.entry_window import EntryWindow
    from app.gui.gc_guard import MainThreadGc
    from app.gui.refcount_guard import pin_singletons
    from app.gui.theme import Theme, apply_theme

    pin_singletons()  # before any Qt call: PySide6 6.12 on CPython 3.11 leaks references to None
    log_path = _log_to_file(args)
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "mor-node"])
    assert isinstance(app, QApplication)
    app.setApplicationName("Morpheus Node")
    app.setDesktopFileName("mor-launch")
    apply_theme(app, Theme.SYSTEM)
    gc_guard = MainThreadGc(app)  # Qt objects must only ever be freed on this thread
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)
    reporter = CrashReporter(log_path)
    reporter.install(loop)
    # The start-up window goes on screen first; the node's libraries (web3, eth-account: about two seconds of
    # imports on 2 cores) load behind it on a worker thread while it paints and reports progress.
    entry = EntryWindow()
    entry.show()

    async def run() -> None:
        await loop.run_in_executor(None, _import_node)
        from app.gui.async_slot import supervisor
        from app.gui.controller import AppController

        part2s: list[Part2] = []

        def part2() -> Part2:
            # The marketplace, chat and provider panes (openai, the router) load with the main window, not before
            # the wizard or the unlock screen.
            from app.gui.part2_wiring import Part2

            if not part2s:
                part2s.append(Part2())
            return part2s[0]

        controller = AppController(
            app, paths.data_dir(), argv=args, entry=entry,
            extra_panes=[lambda services, bridge: part2().panes(services, bridge)],
            window_hooks=[lambda window: part2().attach(window)],
        )  # fmt: skip
        # SIGTERM/SIGINT (session logout, `kill`, Ctrl+C) shut down like closing the window: services stop, anvil
        # saves its state. Python runs the handler between Qt events; the stop itself runs on the loop.
        def on_signal(_signum: int, _frame: object) -> None:
            loop.call_soon_threadsafe(lambda: loop.create_task(controller.stop()))

        signal.signal(signal.SIGTERM, on_signal)
        signal.signal(signal.SIGINT, on_signal)
        warming: list[bool] = []

        def warm_key_libraries(_index: int) -> None:
            if warming or entry.currentWidget() not in (entry.wizard, entry.unlock):
                return
            warming.append(True)
            # The zero timer runs after the screen's show has been processed, so its first paint comes first.
            QTimer.singleShot(0, lambda: supervisor().spawn(asyncio.to_thread(_load_key_libraries),
                                                            name="load key libraries"))

        entry.currentChanged.connect(warm_key_libraries)
        controller.main_shown.connect(gc_guard.freeze_startup_heap_soon)
        controller.start()
        await controller.done.wait()

    try:
        with loop:
            loop.run_until_complete(run())
    except KeyboardInterrupt:
        return 130
    finally:
        gc_guard.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
