"""Owner for background asyncio tasks: keeps references, names them, logs failures, cancels them on shutdown."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


class TaskSupervisor:
    """Every task started through here has an owner: nothing is garbage-collected mid-flight or fails silently."""

    def __init__(self, name: str = "tasks", on_error: Callable[[str, BaseException], None] | None = None) -> None:
        self._name = name
        self._tasks: set[asyncio.Task[Any]] = set()
        self._on_error = on_error

    def spawn(self, coro: Coroutine[Any, Any, T], *, name: str) -> asyncio.Task[T]:
        """Start ``coro`` as a task named ``name``; its failure is logged (and reported via ``on_error``)."""
        task = asyncio.get_running_loop().create_task(coro, name=f"{self._name}:{name}")
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        exc = task.exception()
        if exc is not None:
            log.error("task %s failed", task.get_name(), exc_info=exc)
            if self._on_error is not None:
                self._on_error(task.get_name(), exc)

    @property
    def running(self) -> int:
        """How many tasks are still running."""
        return len(self._tasks)

    async def close(self, grace: float = 5.0) -> None:
        """Cancel every running task (but the one calling this) and wait, bounded, for them to finish."""
        tasks = [t for t in self._tasks if t is not asyncio.current_task()]
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=grace)
