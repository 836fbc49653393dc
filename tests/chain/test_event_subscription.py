"""ETH_NODE_USE_SUBSCRIPTIONS: session events pushed over an anvil WebSocket, and the fall back to polling."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from app.chain.client import ChainClient
from app.chain.events import SessionEventWatcher
from app.chain.log_subscription import ws_url_for
from app.chain.messages import encode_receipt
from app.chain.receipts import DecodedEvent
from app.wallet.signer import KeySigner
from tests.chain.conftest import Node, eventually, free_port
from tests.chain.protocol_env import Protocol, deploy_funded_protocol
from tests.chain.tcp_relay import TcpRelay
from tests.chain.test_protocol_flow import _listed_bid, _open

SLOW_POLL = 60.0  # so an event that arrives within the test came from the subscription


@pytest.fixture
async def env(anvil_client: ChainClient, signers: list[KeySigner]) -> Protocol:
    return await deploy_funded_protocol(anvil_client, signers)


async def _close(env: Protocol, session_id: bytes) -> None:
    receipt = encode_receipt(session_id, env.client.chain_id, await env.now(), 1000, 100)
    await env.user.diamond.close_session(receipt, env.provider.signer.sign_personal_hash(receipt))


class Collector:
    """Runs ``watcher.events()`` in a task and keeps what it yields."""

    def __init__(self, watcher: SessionEventWatcher) -> None:
        self.watcher = watcher
        self.seen: list[DecodedEvent] = []
        self.task = asyncio.create_task(self._run())

    async def _run(self) -> None:
        async for event in self.watcher.events():
            self.seen.append(event)

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)


@pytest.fixture
async def relay(anvil: Node) -> AsyncIterator[TcpRelay]:
    host, port = anvil.url.split("://", 1)[1].rstrip("/").rsplit(":", 1)
    relay = TcpRelay(host, int(port))
    await relay.start()
    yield relay
    await relay.stop()


def test_the_websocket_url_is_the_rpc_url_with_a_ws_scheme() -> None:
    assert ws_url_for("http://127.0.0.1:8545") == "ws://127.0.0.1:8545"
    assert ws_url_for("https://base.example/v2/key") == "wss://base.example/v2/key"
    assert ws_url_for("wss://node.example") == "wss://node.example"


async def test_subscribed_watcher_gets_open_and_close_pushed_over_the_websocket(env: Protocol) -> None:
    _model, bid_id = await _listed_bid(env)
    watcher = SessionEventWatcher(env.client, env.addresses.diamond, env.user.address, interval=SLOW_POLL,
                                  use_subscriptions=True)
    collector = Collector(watcher)
    try:
        await eventually(lambda: watcher.next_block is not None)  # subscribed and caught up
        session_id, _ = await _open(env, bid_id)
        await _close(env, session_id)
        await eventually(lambda: len(collector.seen) >= 2, limit_s=5)
    finally:
        await collector.stop()

    assert [(e.name, e.args["sessionId"]) for e in collector.seen] == [
        ("SessionOpened", session_id), ("SessionClosed", session_id)]
    assert watcher.mode == "subscription" and watcher.last_error is None


async def test_events_before_the_subscription_are_caught_up_once(env: Protocol) -> None:
    _model, bid_id = await _listed_bid(env)
    watcher = SessionEventWatcher(env.client, env.addresses.diamond, env.user.address, interval=SLOW_POLL,
                                  use_subscriptions=True)
    await watcher.poll()  # the cursor starts here
    session_id, _ = await _open(env, bid_id)  # while nothing listens
    collector = Collector(watcher)
    try:
        await eventually(lambda: len(collector.seen) >= 1, limit_s=5)
        await _close(env, session_id)
        await eventually(lambda: len(collector.seen) >= 2, limit_s=5)
    finally:
        await collector.stop()

    assert [e.name for e in collector.seen] == ["SessionOpened", "SessionClosed"]


async def test_an_unreachable_websocket_falls_back_to_polling(env: Protocol) -> None:
    _model, bid_id = await _listed_bid(env)
    watcher = SessionEventWatcher(env.client, env.addresses.diamond, env.user.address, interval=0.05,
                                  use_subscriptions=True, ws_url=f"ws://127.0.0.1:{free_port()}")
    collector = Collector(watcher)
    try:
        await eventually(lambda: watcher.mode == "polling")
        session_id, _ = await _open(env, bid_id)
        await eventually(lambda: len(collector.seen) >= 1)
    finally:
        await collector.stop()

    assert [(e.name, e.args["sessionId"]) for e in collector.seen] == [("SessionOpened", session_id)]
    assert "failed" in (watcher.fallback_reason or "")


async def test_a_dropped_subscription_resumes_by_polling_without_losing_or_repeating_events(
    env: Protocol, relay: TcpRelay
) -> None:
    _model, bid_id = await _listed_bid(env)
    watcher = SessionEventWatcher(env.client, env.addresses.diamond, env.user.address, interval=0.05,
                                  use_subscriptions=True, ws_url=f"ws://{relay.address}")
    collector = Collector(watcher)
    try:
        await eventually(lambda: watcher.next_block is not None and relay.connections == 1)
        first, _ = await _open(env, bid_id)
        await eventually(lambda: len(collector.seen) == 1)
        relay.cut()
        await _close(env, first)  # mined while the watcher switches over
        await env.travel(1)  # a fresh approval timestamp for the second open
        second, _ = await _open(env, bid_id)
        await eventually(lambda: len(collector.seen) >= 3)
        latest = await env.client.block_number()
        await eventually(lambda: (watcher.next_block or 0) > latest)  # every block read: a duplicate would show
    finally:
        await collector.stop()

    assert watcher.mode == "polling" and "subscription" in (watcher.fallback_reason or "")
    assert [(e.name, e.args["sessionId"]) for e in collector.seen] == [
        ("SessionOpened", first), ("SessionClosed", first), ("SessionOpened", second)]
