"""The consumer's session cache follows SessionOpened/SessionClosed events of its wallet (spec §5.6)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from app.chain.events import SessionEventWatcher
from app.router.consumer.service import ConsumerService
from app.storage.store import AsyncStorage
from tests.router.consumer.consumer_env import Market, running_market


@pytest.fixture
async def market(tmp_path: Path) -> AsyncIterator[Market]:
    async with running_market(tmp_path) as m:
        yield m


@pytest.fixture
async def other_node(market: Market, tmp_path: Path) -> AsyncIterator[ConsumerService]:
    """Another node (or app) with the same wallet and its own database."""
    storage = await AsyncStorage.open(tmp_path / "other.sqlite3")
    user = market.user
    yield ConsumerService(user.signer, user.diamond, user.token, market.client, storage)
    await storage.close()


async def _until_open_sessions(market: Market, predicate: Callable[[list[str]], bool], limit_s: float = 10) -> None:
    """Poll the consumer's open sessions until ``predicate`` holds for their ids."""
    async with asyncio.timeout(limit_s):
        while True:
            if predicate([s.id for s in await market.consumer.sessions()]):
                return
            await asyncio.sleep(0.02)


@pytest.mark.parametrize("use_subscriptions", [False, True], ids=["polling", "subscription"])
async def test_sessions_opened_and_closed_elsewhere_enter_and_leave_the_cache(
    market: Market, other_node: ConsumerService, use_subscriptions: bool
) -> None:
    watcher = SessionEventWatcher(market.client, market.protocol.addresses.diamond, market.user.address,
                                  interval=0.05, use_subscriptions=use_subscriptions)
    await watcher.poll()  # start watching from here
    await market.consumer.start(chain_events=watcher.events())
    assert await market.consumer.sessions() == []

    opened = await other_node.open_session(market.model_hex, duration_s=600)
    await _until_open_sessions(market, lambda ids: ids == [opened.id])
    assert (await market.consumer.sessions_manager.get(opened.id)).provider == market.a.address.lower()

    await other_node.close_session(opened.id)
    await _until_open_sessions(market, lambda ids: ids == [])
    assert watcher.mode == ("subscription" if use_subscriptions else "polling")
