"""The event bus and the task supervisor: delivery, isolation of failures, ownership of tasks."""

from __future__ import annotations

import asyncio
import logging

import pytest

from app.events import EventBus, ServiceState, WalletState
from app.tasks import TaskSupervisor


def test_event_reaches_subscribers_of_its_type_only() -> None:
    bus = EventBus()
    seen: list[object] = []
    bus.subscribe(ServiceState, seen.append)
    bus.publish(ServiceState("chain", "running"))
    bus.publish(WalletState(address=None, locked=True))
    assert seen == [ServiceState("chain", "running")]


def test_failing_handler_does_not_stop_delivery(caplog: pytest.LogCaptureFixture) -> None:
    bus = EventBus()
    seen: list[object] = []

    def broken(_event: object) -> None:
        raise RuntimeError("view bug")

    bus.subscribe(ServiceState, broken)
    bus.subscribe(ServiceState, seen.append)
    with caplog.at_level(logging.ERROR):
        bus.publish(ServiceState("router", "failed", "port in use"))
    assert len(seen) == 1
    assert "handler" in caplog.text


def test_unsubscribe_stops_delivery() -> None:
    bus = EventBus()
    seen: list[object] = []
    unsubscribe = bus.subscribe(ServiceState, seen.append)
    unsubscribe()
    bus.publish(ServiceState("chain", "running"))
    assert seen == []


async def test_supervisor_reports_task_failure() -> None:
    errors: list[tuple[str, BaseException]] = []
    supervisor = TaskSupervisor("test", on_error=lambda name, exc: errors.append((name, exc)))

    async def fail() -> None:
        raise ValueError("boom")

    task = supervisor.spawn(fail(), name="failing")
    with pytest.raises(ValueError, match="boom"):
        await task
    await asyncio.sleep(0)
    assert [name for name, _ in errors] == ["test:failing"]
    assert supervisor.running == 0


async def test_supervisor_close_cancels_running_tasks() -> None:
    supervisor = TaskSupervisor("test")
    started = asyncio.Event()

    async def forever() -> None:
        started.set()
        await asyncio.sleep(3600)

    task = supervisor.spawn(forever(), name="forever")
    await started.wait()
    await supervisor.close()
    assert task.cancelled()
    assert supervisor.running == 0
