"""A dropped session event subscription is retried with backoff and takes over again, losing and repeating nothing."""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest

from app.chain.client import ChainClient
from app.chain.events import SessionEventWatcher
from app.chain.receipts import DecodedEvent
from app.wallet.signer import KeySigner
from tests.chain.conftest import Node, eventually
from tests.chain.protocol_env import Protocol, deploy_funded_protocol
from tests.chain.tcp_relay import TcpRelay
from tests.chain.test_event_subscription import Collector, _close
from tests.chain.test_protocol_flow import _listed_bid, _open

SLOW_POLL = 60.0  # the fallback polls once when the socket drops, then not again within the test
BACKOFF = 0.1  # first retry after 0.1 s, then 0.2, 0.4, 0.4, ...
BACKOFF_MAX = 0.4


@pytest.fixture
async def env(anvil_client: ChainClient, signers: list[KeySigner]) -> Protocol:
    return await deploy_funded_protocol(anvil_client, signers)


@pytest.fixture
async def relay(anvil: Node) -> AsyncIterator[TcpRelay]:
    """The watcher's WebSocket path to anvil: ``cut()`` drops it and refuses reconnects until ``cut_off`` clears."""
    host, port = anvil.url.split("://", 1)[1].rstrip("/").rsplit(":", 1)
    relay = TcpRelay(host, int(port))
    await relay.start()
    yield relay
    await relay.stop()


def _watcher(env: Protocol, relay: TcpRelay, interval: float) -> SessionEventWatcher:
    return SessionEventWatcher(env.client, env.addresses.diamond, env.user.address, interval=interval,
                               use_subscriptions=True, ws_url=f"ws://{relay.address}",
                               resubscribe_backoff=BACKOFF, resubscribe_backoff_max=BACKOFF_MAX)


def _count_polls(watcher: SessionEventWatcher, before: Callable[[], Awaitable[None]] | None = None) -> list[int]:
    """Counts the watcher's eth_getLogs rounds (one entry per call); ``before`` runs ahead of each real one."""
    calls: list[int] = []
    real_poll = watcher.poll

    async def counted() -> list[DecodedEvent]:
        calls.append(len(calls))
        if before is not None:
            await before()
        return await real_poll()

    watcher.poll = counted  # type: ignore[method-assign]
    return calls


def _names(seen: list[DecodedEvent]) -> list[tuple[str, bytes]]:
    return [(e.name, e.args["sessionId"]) for e in seen]


async def _all_blocks_read(env: Protocol, watcher: SessionEventWatcher) -> None:
    """Waits until the watcher has read past the current head: a duplicate or loss would have shown by then."""
    latest = await env.client.block_number()
    await eventually(lambda: (watcher.next_block or 0) > latest)


async def test_subscription_comes_back_after_the_outage_and_pushes_later_events(
    env: Protocol, relay: TcpRelay
) -> None:
    _model, bid_id = await _listed_bid(env)
    watcher = _watcher(env, relay, interval=0.05)
    collector = Collector(watcher)
    try:
        await eventually(lambda: watcher.next_block is not None and relay.connections == 1)
        first, _ = await _open(env, bid_id)
        await eventually(lambda: len(collector.seen) == 1)

        relay.cut()
        await eventually(lambda: watcher.mode == "polling")
        await _close(env, first)  # while the node is unreachable over WS: polling delivers it
        await eventually(lambda: len(collector.seen) == 2)
        assert watcher.mode == "polling" and "subscription" in (watcher.fallback_reason or "")

        relay.cut_off = False
        await eventually(lambda: watcher.mode == "subscription", limit_s=2 * BACKOFF_MAX + 1)
        assert watcher.fallback_reason is None and relay.connections == 2
        polls = _count_polls(watcher)
        await env.travel(1)  # a fresh approval timestamp for the second open
        second, _ = await _open(env, bid_id)
        await eventually(lambda: len(collector.seen) == 3)
        assert polls == []  # pushed, not polled
        await _all_blocks_read(env, watcher)
    finally:
        await collector.stop()

    assert _names(collector.seen) == [("SessionOpened", first), ("SessionClosed", first), ("SessionOpened", second)]


async def test_events_missed_between_the_last_poll_and_the_new_subscription_are_caught_up_once(
    env: Protocol, relay: TcpRelay
) -> None:
    _model, bid_id = await _listed_bid(env)
    watcher = _watcher(env, relay, interval=SLOW_POLL)
    handover: list[bytes] = []

    async def open_during_handover() -> None:
        """Mined after the new subscription is confirmed but before its catch-up poll: both see it."""
        if not relay.cut_off and relay.connections == 2 and not handover:
            await env.travel(1)
            handover.append((await _open(env, bid_id))[0])

    polls = _count_polls(watcher, before=open_during_handover)
    collector = Collector(watcher)
    try:
        await eventually(lambda: watcher.next_block is not None and relay.connections == 1)
        first, _ = await _open(env, bid_id)
        await eventually(lambda: len(collector.seen) == 1)

        relay.cut()
        await eventually(lambda: watcher.mode == "polling" and len(polls) == 2)  # the catch-up, the poll after the drop
        await _close(env, first)  # no poll will read this block for a minute: only the resubscription can
        relay.cut_off = False
        await eventually(lambda: watcher.mode == "subscription" and len(collector.seen) >= 3)
        await _close(env, handover[0])  # pushed after the handover event, so that one's push was already read
        await eventually(lambda: len(collector.seen) >= 4)
        await _all_blocks_read(env, watcher)
    finally:
        await collector.stop()

    assert len(polls) == 3
    assert _names(collector.seen) == [("SessionOpened", first), ("SessionClosed", first),
                                      ("SessionOpened", handover[0]), ("SessionClosed", handover[0])]


class CountingRelay(TcpRelay):
    """A TcpRelay that also notes when each connection attempt arrived, refused ones included."""

    def __init__(self, host: str, port: int) -> None:
        super().__init__(host, port)
        self.attempts: list[float] = []

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.attempts.append(asyncio.get_running_loop().time())
        await super()._accept(reader, writer)


def _bursts(times: list[float]) -> list[float]:
    """Connection attempts grouped into retries: aiohttp may dial twice for one ws_connect."""
    starts: list[float] = []
    for at in times:
        if not starts or at - starts[-1] > 0.05:
            starts.append(at)
    return starts


async def test_retries_back_off_up_to_the_cap_and_only_state_changes_are_logged(
    env: Protocol, anvil: Node, caplog: pytest.LogCaptureFixture
) -> None:
    host, port = anvil.url.split("://", 1)[1].rstrip("/").rsplit(":", 1)
    relay = CountingRelay(host, int(port))
    await relay.start()
    watcher = SessionEventWatcher(env.client, env.addresses.diamond, env.user.address, interval=0.05,
                                  use_subscriptions=True, ws_url=f"ws://{relay.address}",
                                  resubscribe_backoff=0.1, resubscribe_backoff_max=0.2)
    collector = Collector(watcher)

    def watcher_retries() -> int:
        return len(_bursts(relay.attempts[1:]))

    try:
        await eventually(lambda: watcher.mode == "subscription" and relay.connections == 1)
        with caplog.at_level(logging.INFO, logger="app.chain.events"):
            cut_at = asyncio.get_running_loop().time()
            relay.cut()
            await eventually(lambda: watcher_retries() >= 7)
            assert watcher.mode == "polling"
            relay.cut_off = False
            await eventually(lambda: watcher.mode == "subscription")
    finally:
        await collector.stop()
        await relay.stop()

    retries = [cut_at, *_bursts(relay.attempts[1:])]
    gaps = [later - earlier for earlier, later in itertools.pairwise(retries)][:7]
    assert all(gap >= 0.9 * least for gap, least in zip(gaps, [0.1] + [0.2] * 6, strict=True)), gaps
    # Capped, the seven waits add up to 1.3 s; unbounded doubling would take 12.7 s. The wide margin keeps a slow
    # CI machine's scheduling delays from failing the test while still telling the two apart.
    assert sum(gaps) < 6.0, gaps
    watcher_logs = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "app.chain.events"]
    assert [level for level, _ in watcher_logs] == [logging.WARNING, logging.INFO], watcher_logs
    assert "retrying" in watcher_logs[0][1] and "restored" in watcher_logs[1][1]
