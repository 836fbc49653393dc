"""Fee math (EIP-1559 caps, +15 % bumps, gas margin) and the nonce manager under concurrency."""

from __future__ import annotations

import asyncio

import pytest

from app.chain.fees import Fees, bump, bump_value, eip1559_fees, legacy_fees, with_gas_margin
from app.chain.nonce import NonceManager


def test_max_fee_is_tip_plus_twice_the_base_fee() -> None:
    fees = eip1559_fees(base_fee=10, tip=3)
    assert (fees.max_fee, fees.tip, fees.legacy) == (23, 3, False)
    assert fees.as_tx_fields() == {"maxFeePerGas": 23, "maxPriorityFeePerGas": 3}


def test_legacy_fees_use_gas_price_only() -> None:
    assert legacy_fees(7).as_tx_fields() == {"gasPrice": 7}


def test_bump_raises_every_component_by_15_percent_rounded_up() -> None:
    assert bump(Fees(max_fee=1000, tip=100)) == Fees(max_fee=1150, tip=115)
    assert bump(Fees(max_fee=1001, tip=101)) == Fees(max_fee=1152, tip=117)
    assert bump(legacy_fees(2000)) == legacy_fees(2300)


def test_bump_always_increases_even_tiny_values() -> None:
    assert bump_value(0) == 1
    assert bump_value(1) == 2


def test_gas_margin_adds_20_percent_plus_room_for_one_fresh_storage_slot() -> None:
    assert with_gas_margin(100_000) == 145_000


class FakeNode:
    """Counts nonces like a node's ``pending`` view."""

    def __init__(self, start: int = 5) -> None:
        self.pending = start
        self.fetches = 0

    async def fetch(self) -> int:
        self.fetches += 1
        await asyncio.sleep(0)
        return self.pending


async def test_concurrent_reservations_get_consecutive_nonces_without_gaps() -> None:
    node = FakeNode(5)
    manager = NonceManager(node.fetch)
    used: list[int] = []

    async def send() -> None:
        async with manager.reserve() as nonce:
            await asyncio.sleep(0)  # the broadcast: other tasks run meanwhile
            used.append(nonce)
            node.pending += 1

    await asyncio.gather(*(send() for _ in range(20)))

    assert sorted(used) == list(range(5, 25))
    assert used == sorted(used)  # handed out in order
    assert node.fetches == 1


async def test_a_failed_send_does_not_burn_the_nonce_and_resyncs_from_the_node() -> None:
    node = FakeNode(3)
    manager = NonceManager(node.fetch)

    async def failing_send() -> None:
        async with manager.reserve() as nonce:
            assert nonce == 3
            raise RuntimeError("broadcast failed")

    with pytest.raises(RuntimeError):
        await failing_send()

    assert manager.cached_next is None
    async with manager.reserve() as nonce:
        assert nonce == 3
    assert node.fetches == 2


async def test_invalidate_rereads_pending_nonce() -> None:
    node = FakeNode(0)
    manager = NonceManager(node.fetch)
    async with manager.reserve():
        node.pending += 1
    node.pending = 9  # e.g. another wallet with the same key sent transactions
    manager.invalidate()
    async with manager.reserve() as nonce:
        assert nonce == 9
