"""Unexpected exceptions end in a friendly dialog that points at the log file, never in a raw traceback."""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path
from types import TracebackType
from typing import Any

from PySide6.QtWidgets import QApplication, QMessageBox, QWidget

log = logging.getLogger(__name__)


class CrashDialog(QMessageBox):
    """Says that something unexpected happened, where the details were logged, and that the app keeps running."""

    def __init__(self, summary: str, log_path: Path, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setIcon(QMessageBox.Icon.Critical)
        self.setWindowTitle("Something went wrong")
        self.setText(f"An unexpected error occurred: {summary}")
        self.setInformativeText(
            f"The details were written to the log:\n{log_path}\n\n"
            "Your wallet and chats are safe. If this keeps happening, please report it with that log file."
        )
        self.setStandardButtons(QMessageBox.StandardButton.Ok)


class CrashReporter:
    """Installs hooks for uncaught exceptions (Python and asyncio) and shows at most one dialog at a time."""

    def __init__(self, log_path: Path) -> None:
        self.log_path = log_path
        self.reported: list[str] = []
        self._dialog: CrashDialog | None = None

    def install(self, loop: asyncio.AbstractEventLoop) -> None:
        """Route ``sys.excepthook`` and the loop's exception handler here."""
        sys.excepthook = self._excepthook
        loop.set_exception_handler(self._loop_handler)

    def report(self, exc: BaseException) -> None:
        """Log ``exc`` with its traceback and tell the user, non-modally."""
        log.error("unexpected error", exc_info=(type(exc), exc, exc.__traceback__))
        summary = f"{type(exc).__name__}: {exc}"[:300]
        self.reported.append(summary)
        if QApplication.instance() is None or self._dialog is not None:
            return
        self._dialog = CrashDialog(summary, self.log_path)
        self._dialog.finished.connect(self._dialog_closed)
        self._dialog.open()  # never exec(): it would nest a second event loop inside a coroutine

    def _dialog_closed(self, _result: int) -> None:
        self._dialog = None

    def _excepthook(
        self, exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None
    ) -> None:
        if issubclass(exc_type, KeyboardInterrupt):
            sys.__excepthook__(exc_type, exc, tb)
            return
        self.report(exc.with_traceback(tb))

    def _loop_handler(self, loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        exc = context.get("exception")
        if isinstance(exc, BaseException):
            self.report(exc)
        else:
            log.error("event loop error: %s", context.get("message"))
