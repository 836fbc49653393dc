"""A bounded share of each event-loop iteration for relay work, first come first served: the loop stays responsive."""

from __future__ import annotations

import asyncio
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any, Final, TypeVar

__all__ = ["TURN_BUDGET_S", "RelayTurns", "loop_turns"]

T = TypeVar("T")

TURN_BUDGET_S: Final = 0.01
"""Relay work (sealing chunks) one event-loop iteration may do before the rest waits for the next iteration."""


class RelayTurns:
    """Runs CPU-bound relay jobs (seal one chunk: encrypt + sign) with at most ``budget_s`` of them per loop turn.

    asyncio runs every callback that is ready before it looks at its timers and sockets again. With a hundred
    streams, the chunks that came in together are all sealed in one iteration at ~0.3 ms each: 100 of them hold
    pings, new session requests and every timer for 30 ms, and an OS preemption inside the burst stretches that
    past 50 ms. Through here, a job runs at once while the current iteration has spent less than ``budget_s`` on
    jobs and nobody is queued; otherwise it queues, and the queue is worked off first come first served at the
    start of the following iterations, ``budget_s`` at a time, with the loop free to serve everything else in
    between. The work done is the same: under load it is spread over more, shorter iterations. Jobs whose waiter
    was cancelled (the consumer hung up) are dropped unrun.
    """

    def __init__(self, budget_s: float = TURN_BUDGET_S, clock: Callable[[], float] = time.perf_counter) -> None:
        self.budget_s = budget_s
        self._clock = clock
        self._turn_began: float | None = None  # when this iteration's first job started; None: no job yet
        self._queue: deque[tuple[Callable[[], Any], asyncio.Future[Any]]] = deque()
        self.queued = 0  # jobs that had to wait for a later iteration (status views, tests, benchmarks)

    @property
    def waiting(self) -> int:
        """Jobs queued for a later iteration right now."""
        return len(self._queue)

    async def run(self, job: Callable[[], T]) -> T:
        """``job()``'s result: at once when this iteration has budget left and nobody waits, else in a later one."""
        if not self._queue and self._budget_left():
            return job()
        future: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        self._queue.append((job, future))
        self.queued += 1
        return await future

    def _budget_left(self) -> bool:
        now = self._clock()
        if self._turn_began is None:
            self._turn_began = now
            # Called soon = first thing in the next iteration: the turn is over by then.
            asyncio.get_running_loop().call_soon(self._next_turn)
            return True
        return now - self._turn_began < self.budget_s

    def _next_turn(self) -> None:
        self._turn_began = None
        while self._queue and self._budget_left():
            job, future = self._queue.popleft()
            if future.cancelled():
                continue
            try:
                future.set_result(job())
            except Exception as e:  # the waiter gets it, as if it had run the job itself
                future.set_exception(e)


_per_loop: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, RelayTurns] = weakref.WeakKeyDictionary()


def loop_turns() -> RelayTurns:
    """The running loop's :class:`RelayTurns`: providers served by one loop (the demo marketplace runs several in
    the app) share one budget per iteration instead of each taking a full one."""
    loop = asyncio.get_running_loop()
    turns = _per_loop.get(loop)
    if turns is None:
        turns = _per_loop[loop] = RelayTurns()
    return turns
