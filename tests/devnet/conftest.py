"""Fixtures for devnet tests: a fresh running chain of each engine."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from devnet_rpc import ANVIL

from app.devnet.node import ChainNode, start_anvil, start_eth_tester


@pytest.fixture(params=["anvil", "eth-tester"])
async def chain(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[ChainNode]:
    """A fresh chain of each engine (anvil in memory, eth-tester) on 127.0.0.1."""
    if request.param == "anvil":
        if ANVIL is None:
            pytest.skip("anvil not installed (set ANVIL_PATH)")
        node = await start_anvil(state_path=None)
    else:
        node = await start_eth_tester()
    try:
        yield node
    finally:
        await node.stop()
