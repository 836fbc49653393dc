"""Fault-test fixtures: one devnet marketplace per module, made healthy again before every test."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from tests.faults.market import FaultMarket, running_fault_market


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def fault_market(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[FaultMarket]:
    async with running_fault_market(tmp_path_factory.mktemp("fault-market")) as env:
        yield env


@pytest_asyncio.fixture(loop_scope="module")
async def market(fault_market: FaultMarket) -> FaultMarket:
    """The module's marketplace with every provider alive, honest and un-cooled."""
    await fault_market.reset()
    return fault_market
