"""ChainClient.close() and failover: calls in flight finish first, then every aiohttp session web3 cached is closed."""

from __future__ import annotations

import asyncio
import gc
from collections.abc import AsyncIterator

import aiohttp
import pytest

from app.chain.client import ChainClient
from app.chain.http_sessions import cached_sessions
from app.errors import ChainError
from tests.chain.conftest import Node, eventually
from tests.chain.held_relay import HeldRelay

DEV0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


@pytest.fixture
async def relay(node: Node) -> AsyncIterator[HeldRelay]:
    """``eth_blockNumber`` held until released; ``eth_getBalance`` answered with HTTP 500."""
    held = HeldRelay(node.url, held={"eth_blockNumber"}, failing={"eth_getBalance"})
    await held.start()
    try:
        yield held
    finally:
        await held.stop()


def assert_no_unclosed_sessions(recwarn: pytest.WarningsRecorder) -> None:
    gc.collect()  # an unclosed session warns from __del__, so make the collector run now
    leaked = [str(w.message) for w in recwarn if issubclass(w.category, ResourceWarning)]
    assert leaked == []


async def still_running_after(task: asyncio.Task[None], seconds: float) -> bool:
    """True if ``task`` has not finished within ``seconds`` (a bounded look for something that must NOT happen)."""
    done, _ = await asyncio.wait({task}, timeout=seconds)
    return not done


async def test_close_lets_a_call_in_flight_finish_then_closes_its_session(
    node: Node, relay: HeldRelay, recwarn: pytest.WarningsRecorder
) -> None:
    client = ChainClient([relay.url], expected_chain_id=node.chain_id, backoff=0.01)
    await client.connect()
    provider = client.w3.provider
    call = asyncio.create_task(client.block_number())
    await asyncio.wait_for(relay.arrived.wait(), 5)
    sessions = cached_sessions(provider)

    closing = asyncio.create_task(client.close())
    assert await still_running_after(closing, 0.2)
    assert sessions
    assert not any(s.closed for s in sessions)  # the call still uses its session
    relay.release()

    assert await call >= 0  # answered, not cut off by close()
    await closing
    assert all(s.closed for s in sessions)
    assert cached_sessions(provider) == []
    assert_no_unclosed_sessions(recwarn)


async def test_a_call_whose_caller_was_cancelled_still_ends_before_close_closes_the_session(
    node: Node, relay: HeldRelay, recwarn: pytest.WarningsRecorder
) -> None:
    client = ChainClient([relay.url], expected_chain_id=node.chain_id, backoff=0.01)
    await client.connect()
    provider = client.w3.provider
    call = asyncio.create_task(client.block_number())
    await asyncio.wait_for(relay.arrived.wait(), 5)
    call.cancel()
    with pytest.raises(asyncio.CancelledError):
        await call

    closing = asyncio.create_task(client.close())
    assert await still_running_after(closing, 0.2)
    relay.release()
    await closing

    assert relay.answered == 2  # eth_chainId at connect, then the abandoned eth_blockNumber, answered in full
    assert all(s.closed for s in cached_sessions(provider)) and cached_sessions(provider) == []
    assert_no_unclosed_sessions(recwarn)


async def test_close_stops_waiting_after_close_wait_and_the_late_call_fails_with_a_chain_error(
    node: Node, relay: HeldRelay, recwarn: pytest.WarningsRecorder
) -> None:
    client = ChainClient([relay.url], expected_chain_id=node.chain_id, backoff=0.01, close_wait=0.2)
    await client.connect()
    provider = client.w3.provider
    call = asyncio.create_task(client.block_number())
    await asyncio.wait_for(relay.arrived.wait(), 5)
    sessions = cached_sessions(provider)

    await asyncio.wait_for(client.close(), 2)  # bounded although the call is still held
    assert all(s.closed for s in sessions)
    with pytest.raises(ChainError, match=r"connection was closed.*connect again"):
        await call  # its connection was closed under it, and a closed client does not reconnect
    relay.release()

    assert cached_sessions(provider) == []  # the retry did not open a fresh session on the closed provider
    assert_no_unclosed_sessions(recwarn)


async def test_failover_closes_the_old_rpcs_session_only_after_its_call_in_flight_answered(
    node: Node, relay: HeldRelay, recwarn: pytest.WarningsRecorder
) -> None:
    client = ChainClient([relay.url, node.url], expected_chain_id=node.chain_id, backoff=0.01)
    await client.connect()
    old_provider = client.w3.provider
    slow = asyncio.create_task(client.block_number())
    await asyncio.wait_for(relay.arrived.wait(), 5)
    sessions = cached_sessions(old_provider)

    assert await client.get_balance(DEV0) > 0  # HTTP 500 from the relay → failed over to the node
    assert client.url == node.url
    assert sessions and not any(s.closed for s in sessions)  # the held call still needs the old session

    relay.release()
    assert await slow >= 0
    await eventually(lambda: all(s.closed for s in sessions), 5)
    assert cached_sessions(old_provider) == []
    await client.close()
    assert_no_unclosed_sessions(recwarn)


async def test_a_closed_client_refuses_calls_until_connected_again(node: Node) -> None:
    client = ChainClient([node.url], expected_chain_id=node.chain_id, backoff=0.01)
    await client.connect()
    await client.close()
    with pytest.raises(ChainError, match="connect again"):
        await client.block_number()
    await client.connect()
    try:
        assert await client.block_number() >= 0
    finally:
        await client.close()


async def test_close_twice_is_harmless(node: Node) -> None:
    client = ChainClient([node.url], expected_chain_id=node.chain_id)
    await client.connect()
    sessions = cached_sessions(client.w3.provider)
    await client.close()
    await client.close()
    assert sessions and all(s.closed for s in sessions)
    assert client.health.last_error == "closed"


@pytest.mark.anvil
def test_close_on_a_new_loop_closes_the_session_of_a_loop_that_has_ended(
    anvil: Node, recwarn: pytest.WarningsRecorder
) -> None:
    client = ChainClient([anvil.url], expected_chain_id=anvil.chain_id)

    async def use() -> list[aiohttp.ClientSession]:
        await client.connect()
        assert await client.block_number() >= 0
        return cached_sessions(client.w3.provider)

    first, second = asyncio.new_event_loop(), asyncio.new_event_loop()
    try:
        sessions = first.run_until_complete(use())
        first.close()  # the loop that made the session is gone, the session is still open
        assert sessions and not any(s.closed for s in sessions)
        second.run_until_complete(client.close())
    finally:
        first.close()
        second.close()
    assert all(s.closed for s in sessions)
    assert_no_unclosed_sessions(recwarn)
