"""FlakyProxy over real TCP: every 2nd prompt is cut after one answer message, every 2nd report refused, rest pass."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.devnet.demo_proxy import FlakyProxy, ProxyEvent
from app.errors import DevnetError
from app.router.morrpc.framing import MessageDecoder

pytestmark = pytest.mark.timeout(20)
ANSWER = [{"id": "1", "result": f"part {i}"} for i in range(3)]


class Upstream:
    """A stand-in MOR-RPC server: answers any request with three messages back to back; counts what reached it."""

    def __init__(self) -> None:
        self.methods: list[str] = []
        self.server: asyncio.Server | None = None
        self.handlers: set[asyncio.Task[Any]] = set()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        decoder = MessageDecoder()
        while not (messages := decoder.feed(await reader.read(1024))):
            pass
        self.methods.append(messages[0]["method"])
        with contextlib.suppress(ConnectionError):  # the proxy cuts some answers short
            for message in ANSWER:
                writer.write(json.dumps(message).encode())
                await writer.drain()
                await asyncio.sleep(0.01)  # separate TCP writes, as a streamed answer arrives
        writer.close()
        with contextlib.suppress(ConnectionError):
            await writer.wait_closed()

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])


@pytest.fixture
async def proxy() -> AsyncIterator[tuple[FlakyProxy, Upstream]]:
    upstream = Upstream()
    upstream.server = await asyncio.start_server(upstream._serve, "127.0.0.1", 0)
    flaky = FlakyProxy(upstream.port)
    await flaky.start()
    try:
        yield flaky, upstream
    finally:
        await flaky.stop()
        upstream.server.close()
        # Python 3.11's wait_closed does not wait for connection handlers; a cut answer's handler may still run.
        if upstream.handlers:
            await asyncio.wait(upstream.handlers, timeout=5)
        await upstream.server.wait_closed()


async def call(port: int, method: str) -> list[dict[str, Any]]:
    """Send one request through the proxy; every answer message received before the connection closed."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(json.dumps({"id": "1", "method": method, "params": {}}).encode())
    await writer.drain()
    decoder = MessageDecoder()
    received: list[dict[str, Any]] = []
    while chunk := await reader.read(1024):
        received += decoder.feed(chunk)
    writer.close()
    await writer.wait_closed()
    return received


async def test_every_second_prompt_is_cut_after_its_first_answer_message(
    proxy: tuple[FlakyProxy, Upstream],
) -> None:
    flaky, _ = proxy

    answers = [await call(flaky.port, "session.prompt") for _ in range(4)]

    assert answers == [ANSWER, ANSWER[:1], ANSWER, ANSWER[:1]]
    assert [e.action for e in flaky.events] == ["pass", "cut", "pass", "cut"]


async def test_every_second_report_is_refused_without_reaching_the_provider(
    proxy: tuple[FlakyProxy, Upstream],
) -> None:
    flaky, upstream = proxy

    answers = [await call(flaky.port, "session.report") for _ in range(4)]

    assert answers == [ANSWER, [], ANSWER, []]
    assert upstream.methods == ["session.report", "session.report"]


async def test_pings_and_session_requests_always_pass_and_each_method_counts_on_its_own(
    proxy: tuple[FlakyProxy, Upstream],
) -> None:
    flaky, _ = proxy
    methods = ["network.ping", "session.request", "session.prompt", "network.ping", "session.request",
               "session.report", "session.prompt"]

    answers = [await call(flaky.port, m) for m in methods]

    assert [len(a) for a in answers] == [3, 3, 3, 3, 3, 3, 1]
    assert flaky.events[-1] == ProxyEvent("session.prompt", 2, "cut")


def test_a_schedule_that_fails_less_than_every_request_is_required() -> None:
    with pytest.raises(DevnetError, match="fail_every must be 1 or more"):
        FlakyProxy(1, fail_every=0)
