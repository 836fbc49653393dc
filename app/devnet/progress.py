"""Startup progress of the devnet: named steps that report running / ok / failed for the startup screen."""

from __future__ import annotations

import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Literal

from app.errors import AppError

log = logging.getLogger(__name__)

StepState = Literal["running", "ok", "failed"]


@dataclass(frozen=True)
class StartupStep:
    """One report about one step: ``seconds`` is the time spent so far (0 while it starts)."""

    name: str
    state: StepState
    seconds: float
    message: str = ""


ProgressCallback = Callable[[StartupStep], None]


class StepReporter:
    """Times steps and reports them to a callback; a failing callback is logged, never breaks startup."""

    def __init__(self, callback: ProgressCallback | None = None) -> None:
        self._callback = callback
        self.history: list[StartupStep] = []

    def _emit(self, step: StartupStep) -> None:
        self.history.append(step)
        if self._callback is None:
            return
        try:
            self._callback(step)
        except Exception:
            log.exception("devnet progress callback failed on %s", step.name)

    @asynccontextmanager
    async def step(self, name: str, message: str = "") -> AsyncIterator[Callable[[str], None]]:
        """Report ``name`` as running, then ok or failed; the yielded function sets the final message."""
        start = time.monotonic()
        final = [message]
        self._emit(StartupStep(name, "running", 0.0, message))
        try:
            yield lambda text: final.__setitem__(0, text)
        except BaseException as e:
            text = e.user_message if isinstance(e, AppError) else f"{type(e).__name__}: {e}"
            self._emit(StartupStep(name, "failed", time.monotonic() - start, text))
            raise
        self._emit(StartupStep(name, "ok", time.monotonic() - start, final[0]))
