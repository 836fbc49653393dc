"""Run coroutines from Qt slots: the control is disabled while it runs and an AppError is shown, not raised."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import shiboken6
from PySide6.QtWidgets import QLabel, QWidget

from app.errors import AppError
from app.tasks import TaskSupervisor

log = logging.getLogger(__name__)

_supervisor: TaskSupervisor | None = None


def supervisor() -> TaskSupervisor:
    """The supervisor that owns every task started from the GUI."""
    global _supervisor
    if _supervisor is None:
        _supervisor = TaskSupervisor("gui")
    return _supervisor


def run_async(
    action: Callable[[], Awaitable[Any]],
    *,
    name: str,
    busy: Iterable[QWidget] = (),
    error_label: QLabel | None = None,
    on_done: Callable[[Any], None] | None = None,
) -> asyncio.Task[None]:
    """Start ``action`` on the loop; disable ``busy`` while it runs; show an AppError in ``error_label``.

    Unexpected exceptions are not swallowed: they propagate to the supervisor, which logs them and (in the app)
    opens the crash dialog.
    """
    widgets = list(busy)
    for widget in widgets:
        widget.setEnabled(False)
    if error_label is not None:
        error_label.clear()
        error_label.hide()

    async def runner() -> None:
        try:
            result = await action()
        except AppError as e:
            log.info("%s failed: %s", name, e.user_message)
            if error_label is not None and shiboken6.isValid(error_label):
                error_label.setText(e.user_message)
                error_label.show()
            return
        finally:
            for widget in widgets:
                if shiboken6.isValid(widget):  # the window may have closed meanwhile
                    widget.setEnabled(True)
        if on_done is not None:
            on_done(result)

    return supervisor().spawn(runner(), name=name)
