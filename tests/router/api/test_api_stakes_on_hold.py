"""Closing sessions through the API on an anvil devnet: after chain time moved, and the early-close hold that is
released at the next UTC midnight and paid out by withdrawUserStakes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.market_api import Api, running_api

DAY = 86_400


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[Api]:
    async with running_api(tmp_path) as running:
        yield running


async def _open(api: Api) -> str:
    status, opened = await api.call("POST", f"/blockchain/models/0x{api.market.model_id.hex()}/session",
                                    json={"sessionDuration": 600})
    assert status == 200, opened
    return str(opened["sessionID"])


async def _held(api: Api) -> tuple[int, int]:
    status, held = await api.call("GET", "/blockchain/sessions/user/stakesOnHold")
    assert status == 200, held
    return int(held["available"]), int(held["onHold"])


async def test_a_session_closes_after_chain_time_moved_with_no_block_mined(api: Api) -> None:
    # Regression: the close was estimated on the block that opened the session (nothing owed yet, so cheaper)
    # and then ran out of gas in the next block, 120 s later, where the provider is paid.
    session_id = await _open(api)
    await api.market.client.rpc("evm_increaseTime", [120])

    status, closed = await api.call("POST", f"/blockchain/sessions/{session_id}/close")

    assert status == 200, closed
    status, body = await api.call("GET", f"/blockchain/sessions/{session_id}")
    assert body["session"]["ClosedAt"] - body["session"]["OpenedAt"] >= 120
    storage = api.market.storage
    cached = await storage.run(storage.sync.sessions.get, session_id)
    assert cached is not None and cached.closed_at == body["session"]["ClosedAt"]  # chain time, not wall clock
    assert (await api.market.consumer.sessions()) == []


async def test_an_early_close_is_held_until_utc_midnight_then_withdrawn(api: Api) -> None:
    chain, user = api.market.client, api.market.user
    session_id = await _open(api)
    await chain.rpc("evm_increaseTime", [120])
    assert (await api.call("POST", f"/blockchain/sessions/{session_id}/close"))[0] == 200

    available, on_hold = await _held(api)
    assert (available, on_hold) == (0, on_hold) and on_hold > 0
    status, refused = await api.call("POST", "/blockchain/sessions/withdrawUserStakes")
    assert status == 400 and "nothing to withdraw" in refused["error"]

    now = await chain.block_timestamp()
    await chain.rpc("evm_increaseTime", [DAY - now % DAY + 10])  # just past the next UTC midnight
    await chain.rpc("evm_mine", [])
    assert await _held(api) == (on_hold, 0)
    balance_before = await user.token.balance_of(user.address)

    status, withdrawn = await api.call("POST", "/blockchain/sessions/withdrawUserStakes")

    assert status == 200, withdrawn
    receipt = await chain.rpc("eth_getTransactionReceipt", [withdrawn["tx"]])
    assert int(receipt["status"], 16) == 1
    assert await user.token.balance_of(user.address) == balance_before + on_hold
    assert await _held(api) == (0, 0)
