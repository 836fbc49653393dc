"""Relay turns: sealing runs at once while a loop iteration has budget, else waits its turn, first come first served."""

from __future__ import annotations

import asyncio
import math
from collections.abc import Callable, Coroutine
from functools import partial
from typing import Any

import pytest

from app.router.provider.relay_turns import RelayTurns, loop_turns

BUDGET_S = 0.010
JOB_S = 0.003  # what one fake seal costs on the fake clock


class CountingLoop(asyncio.SelectorEventLoop):
    """An event loop that counts its iterations, so a test can say which iteration each job ran in."""

    iterations = 0

    def _run_once(self) -> None:
        self.iterations += 1
        super()._run_once()  # type: ignore[misc]


def run_counted(main: Callable[[CountingLoop], Coroutine[Any, Any, None]]) -> None:
    with asyncio.Runner(loop_factory=CountingLoop) as runner:
        loop = runner.get_loop()
        assert isinstance(loop, CountingLoop)
        runner.run(main(loop))


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


Ran = list[tuple[int, int, int]]  # (loop iteration, stream, chunk) of every job, in the order they ran


def relay_streams(streams: int, chunks: int, budget_s: float = BUDGET_S) -> tuple[Ran, RelayTurns]:
    """Run ``streams`` relay loops like the controller's (seal each chunk through the turns, then give the loop a
    turn) on a counting loop, every seal costing ``JOB_S`` on the fake clock."""
    ran: Ran = []
    turns = RelayTurns(budget_s, clock=(clock := FakeClock()))

    async def main(loop: CountingLoop) -> None:
        def seal(stream: int, chunk: int) -> int:
            clock.now += JOB_S
            ran.append((loop.iterations, stream, chunk))
            return chunk

        async def relay(stream: int) -> None:
            for chunk in range(chunks):
                assert await turns.run(partial(seal, stream, chunk)) == chunk
                await asyncio.sleep(0)

        await asyncio.gather(*(relay(i) for i in range(streams)))

    run_counted(main)
    return ran, turns


def most_in_one_iteration(ran: Ran) -> int:
    per_iteration: dict[int, int] = {}
    for iteration, _, _ in ran:
        per_iteration[iteration] = per_iteration.get(iteration, 0) + 1
    return max(per_iteration.values())


def test_under_its_budget_a_job_runs_at_once_without_giving_up_the_loop() -> None:
    async def main(loop: CountingLoop) -> None:
        turns = RelayTurns(BUDGET_S, clock=FakeClock())
        others: list[str] = []
        loop.call_soon(others.append, "ran")
        assert [await turns.run(partial(int, i)) for i in range(5)] == [0, 1, 2, 3, 4]
        assert others == []  # no await suspended: the ready callback is still waiting
        assert turns.queued == 0

    run_counted(main)


def test_an_iteration_seals_at_most_its_budget_and_the_rest_waits_for_later_iterations() -> None:
    ran, turns = relay_streams(streams=10, chunks=3)

    assert len(ran) == 30 and turns.queued > 0 and turns.waiting == 0
    # Jobs start while less than the budget is spent: at 0, 3, 6 and 9 ms of a 10-ms budget, never a fifth.
    assert most_in_one_iteration(ran) == 4
    # Unbudgeted, every stream seals its chunk in the same iteration: 10 × 3 ms holding the loop.
    assert most_in_one_iteration(relay_streams(streams=10, chunks=3, budget_s=math.inf)[0]) == 10


def test_queued_jobs_run_first_come_first_served_so_no_stream_gets_ahead() -> None:
    ran, _ = relay_streams(streams=10, chunks=5)

    assert [stream for _, stream, chunk in ran if chunk == 0] == list(range(10))  # first come, first served
    done = [0] * 10
    for _, stream, _ in ran:
        done[stream] += 1
        # A waiter resumes an iteration after its job ran, so order is round robin give or take one chunk.
        assert max(done) - min(done) <= 2, ran
    assert done == [5] * 10


def test_a_job_whose_waiter_was_cancelled_is_dropped_unrun() -> None:
    async def main(loop: CountingLoop) -> None:
        clock = FakeClock()
        turns = RelayTurns(BUDGET_S, clock=clock)
        ran: list[str] = []

        def costly(name: str) -> str:
            clock.now += BUDGET_S
            ran.append(name)
            return name

        # Three tasks start in one iteration: the first spends its budget, the other two queue.
        first = asyncio.ensure_future(turns.run(partial(costly, "first")))
        gone = asyncio.ensure_future(turns.run(partial(costly, "hung up")))
        kept = asyncio.ensure_future(turns.run(partial(costly, "kept")))
        await asyncio.sleep(0)
        assert first.done()
        assert turns.waiting == 2
        gone.cancel()
        assert await kept == "kept"
        assert ran == ["first", "kept"]

    run_counted(main)


def test_a_queued_job_that_fails_raises_in_its_waiter_and_the_queue_goes_on() -> None:
    async def main(loop: CountingLoop) -> None:
        clock = FakeClock()
        turns = RelayTurns(BUDGET_S, clock=clock)

        def spend() -> None:
            clock.now += BUDGET_S

        def broken() -> None:
            raise ValueError("the consumer's key is not a curve point")

        await turns.run(spend)
        failing = asyncio.ensure_future(turns.run(broken))
        after = asyncio.ensure_future(turns.run(partial(str, "after")))
        with pytest.raises(ValueError, match="curve point"):
            await failing
        assert await after == "after"

    run_counted(main)


def test_providers_on_one_loop_share_its_budget() -> None:
    seen: list[RelayTurns] = []

    async def main(loop: CountingLoop) -> None:
        seen.extend([loop_turns(), loop_turns()])

    run_counted(main)
    run_counted(main)
    assert seen[0] is seen[1]  # the demo marketplace's providers, served by the app's one loop
    assert seen[2] is not seen[0]  # another loop, another budget
