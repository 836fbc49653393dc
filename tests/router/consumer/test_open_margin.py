"""Session opening never stakes for a duration the contract rounds below its 300 s minimum (stake → stipend →
duration floors twice): checked against the real contract views on a devnet, at the boundary seen in the field."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from app.router.consumer.market import stake_amount
from app.router.consumer.sessions import MIN_SESSION_S, OPEN_MARGIN_S, open_stake
from tests.router.consumer.consumer_env import CHEAP, DEAR, Market, running_market

# 2026-11-30 (UTC), the day the reliability helper saw failover's 300 s reopen revert: the pools' emission (and so
# supply and budget) depends only on the day, so the views evaluated at this time reproduce that day's numbers.
SEEN_AT = 1795999224
SEEN_STAKE = 19_000_000_001_546_623_191  # wei: the exact stake for 300 s at DEAR (2e14 wei/s) that day
CLAIMED = 2 * CHEAP  # providersTotalClaimed then: provider A paid for 2 s at 1e14 wei/s


def test_the_stake_is_rounded_up_and_never_for_less_than_the_minimum_plus_margin() -> None:
    supply, budget, price = 19 * 10**24 + 7, 6 * 10**22, 10**14
    floor = MIN_SESSION_S + OPEN_MARGIN_S
    assert open_stake(supply, budget, price, MIN_SESSION_S, False) == -(-supply * price * floor // budget)
    assert open_stake(supply, budget, price, 3600, False) == stake_amount(supply, budget, price, 3600) + 1
    assert open_stake(supply, budget, price, MIN_SESSION_S, True) == -(-supply * price * floor // budget)
    assert open_stake(10**24, 10**26, price, 3600, True) == price * 3600  # direct: at least price × duration
    assert open_stake(supply, 0, price, 3600, False) == 0  # an empty budget stays 0 (opening says why)


@pytest.fixture
async def claimed_market(tmp_path: Path) -> AsyncIterator[Market]:
    """The consumer test market after one real 2-second session with A, so providersTotalClaimed = 2e14 wei."""
    async with running_market(tmp_path) as market:
        session = await market.consumer.open_session(bid_id="0x" + market.a.bid_id.hex(), duration_s=600)
        await market.client.rpc("evm_setNextBlockTimestamp", [session.opened_at + 2])
        await market.consumer.close_session(session.id)
        assert await market.user.diamond.providers_total_claimed() == CLAIMED
        yield market


async def test_the_seen_300_s_stake_rounds_to_299_s_on_chain_and_the_opening_stake_does_not(
    claimed_market: Market,
) -> None:
    diamond = claimed_market.user.diamond
    supply, budget = await diamond.total_mor_supply(SEEN_AT), await diamond.todays_budget(SEEN_AT)

    exact = stake_amount(supply, budget, DEAR, MIN_SESSION_S)
    assert exact == SEEN_STAKE
    assert await diamond.stake_to_stipend(exact, SEEN_AT) // DEAR == MIN_SESSION_S - 1  # SessionTooShort

    staked = open_stake(supply, budget, DEAR, MIN_SESSION_S, False)
    assert await diamond.stake_to_stipend(staked, SEEN_AT) // DEAR == MIN_SESSION_S + OPEN_MARGIN_S


async def test_a_300_s_session_opens_on_chain_with_the_margin_after_provider_claims(claimed_market: Market) -> None:
    market = claimed_market
    session = await market.consumer.open_session(bid_id="0x" + market.b.bid_id.hex(), duration_s=MIN_SESSION_S)
    assert session.ends_at - session.opened_at == MIN_SESSION_S + OPEN_MARGIN_S
