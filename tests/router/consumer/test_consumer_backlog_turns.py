"""A backlog of prompt responses arriving in one TCP write is drained without starving the event loop."""

from __future__ import annotations

import asyncio
from typing import Any

from app.router.consumer.client import TURN_EVERY_MESSAGES, Endpoint
from tests.router.consumer.scripted_peer import ScriptedPeer
from tests.router.consumer.test_consumer_client import PROVIDER, SESSION, chunk, client, sealed, write

BURST = 4 * TURN_EVERY_MESSAGES


async def test_other_tasks_run_while_a_burst_of_responses_from_one_write_is_drained() -> None:
    burst = b"".join(sealed(chunk(f"t{i}")) for i in range(BURST - 1)) + sealed(chunk("end", "stop"))
    assert len(burst) < 64 * 1024  # one write the consumer takes in with a single read
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    async def script(request: dict[str, Any], writer: asyncio.StreamWriter) -> None:
        await write(writer, burst)

    texts: list[str] = []
    ticks_at: list[int] = []
    running = asyncio.ensure_future(ticker())
    try:
        async with ScriptedPeer(script) as peer:
            async for item in client().prompt(Endpoint.parse(peer.endpoint), PROVIDER.address, PROVIDER.public_key,
                                              SESSION, '{"messages":[]}'):
                texts.append(item["choices"][0]["delta"]["content"])
                ticks_at.append(ticks)
    finally:
        running.cancel()

    assert texts == [f"t{i}" for i in range(BURST - 1)] + ["end"]  # same messages, same order
    # the ticker got turns between the first and the last message of the burst, more than once
    assert ticks_at[-1] - ticks_at[0] >= BURST // TURN_EVERY_MESSAGES - 1
