"""Budget, supply, stipend and session-end arithmetic (§6.3) and the LibSD stats update (§6.9), against references."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from .env import BID_PRICE, MAX_SESSION_DURATION, NOW0, PAYOUT_START, POOLS, Env, Market
from .reference import (
    DAY,
    DEPLOYED_PAYOUT_START,
    MOR,
    Pool,
    StatsModel,
    compute_balance,
    deployed_pools,
    period_reward_from_start,
    session_end,
    stake_to_stipend,
    start_of_day,
    stipend_to_stake,
    tdiv,
    todays_budget,
    total_mor_supply,
)

DECREASE = 592_558_728_240_000_000

# getPeriodReward of pool 3 from payoutStart (12:00 UTC) to the start of the day of `t`, worked by hand:
#  t = PS + 12h − 1 → day start PS − 12h, before payoutStart: 0
#  t = PS + 12h     → half of interval 0:                    3456e18 / 2
#  t = PS + 36h     → interval 0 + half of interval 1:       3456e18 + (3456e18 − d) / 2
#  t = PS + 10 d    → intervals 0..8 + half of interval 9:   9·3456e18 − 36·d + (3456e18 − 9·d) / 2
#  t ≥ PS + 5833 d  → all ceil(3456e18 / d) = 5833 intervals: 5833·3456e18 − d·5833·5832/2
HAND_VALUES = [
    (12 * 3600 - 1, 0),
    (12 * 3600, 1_728 * MOR),
    (36 * 3600, 5_183_703_720_635_880_000_000),
    (10 * DAY, 32_808_001_371_506_280_000_000),
    (6_000 * DAY, 10_079_999_999_721_449_280_000_000),
]


@pytest.mark.parametrize(("offset", "expected"), HAND_VALUES)
def test_reference_period_reward_matches_hand_computed_values(offset: int, expected: int) -> None:
    pool = deployed_pools()[3]
    assert period_reward_from_start(pool, start_of_day(pool.payout_start + offset)) == expected


@pytest.mark.parametrize(("offset", "expected"), HAND_VALUES)
def test_compute_balance_matches_hand_computed_period_reward(env: Env, offset: int, expected: int) -> None:
    assert env.fn.getComputeBalance(PAYOUT_START + offset).call() == expected
    assert env.fn.getTodaysBudget(PAYOUT_START + offset).call() == expected // 100


def test_hand_value_ten_days_in_is_consistent_with_the_decrease() -> None:
    assert HAND_VALUES[3][1] == 9 * 3456 * MOR - 36 * DECREASE + (3456 * MOR - 9 * DECREASE) // 2


@pytest.mark.parametrize("offset", [
    -DAY, 0, 12 * 3600 - 1, 12 * 3600, DAY, 10 * DAY, 100 * DAY + 5 * 3600, 1_000 * DAY + 1,
    5_832 * DAY, 5_833 * DAY, 6_000 * DAY,
])
def test_budget_supply_and_balance_match_reference_across_the_schedule(env: Env, offset: int) -> None:
    t = PAYOUT_START + offset
    assert env.fn.getComputeBalance(t).call() == compute_balance(POOLS, t)
    assert env.fn.totalMORSupply(t).call() == total_mor_supply(POOLS, t)
    assert env.fn.getTodaysBudget(t).call() == todays_budget(POOLS, t)
    assert env.fn.stakeToStipend(50 * MOR, t).call() == stake_to_stipend(POOLS, 50 * MOR, t)
    assert env.fn.stipendToStake(MOR, t).call() == stipend_to_stake(POOLS, MOR, t)


def test_compute_over_total_supply_is_6_over_19(env: Env) -> None:
    # Pool 4 is exactly 1/6 of a big pool, so total = 3 + 1/6 big pools = 19/6 of the compute pool.
    assert env.fn.totalMORSupply(NOW0).call() * 6 == env.fn.getComputeBalance(NOW0).call() * 19


def test_worked_numbers_five_mor_at_1e13_buys_1578_seconds(env: Env) -> None:
    assert env.fn.stakeToStipend(5 * MOR, NOW0).call() == 15_789_473_684_210_526  # 5 MOR × 6/1900
    assert env.fn.getSessionEnd(5 * MOR, 10**13, NOW0).call() == NOW0 + 1578
    assert env.fn.stipendToStake(300 * 10**13, NOW0).call() == 95 * MOR // 100  # 0.95 MOR for 300 s


def test_session_end_matches_reference_and_caps_at_max_duration(env: Env) -> None:
    for amount, price in ((50 * MOR, BID_PRICE), (MOR, 10**13), (3_000 * MOR, BID_PRICE), (7, 1)):
        expected = session_end(POOLS, amount, price, NOW0, MAX_SESSION_DURATION)
        assert env.fn.getSessionEnd(amount, price, NOW0).call() == expected
    assert env.fn.getSessionEnd(3_000 * MOR, BID_PRICE, NOW0).call() == NOW0 + MAX_SESSION_DURATION


def test_deployed_pools_on_2026_05_26_match_the_spec_estimates(env: Env) -> None:
    for i, pool in enumerate(deployed_pools()):
        env.send(env.fn.setPoolConfig(i, pool.as_tuple()), env.owner)
    t = 1_779_753_600  # 2026-05-26 00:00 UTC
    pools = deployed_pools()
    compute, total, budget = (env.fn.getComputeBalance(t).call(), env.fn.totalMORSupply(t).call(),
                              env.fn.getTodaysBudget(t).call())
    assert (compute, total, budget) == (compute_balance(pools, t), total_mor_supply(pools, t),
                                        todays_budget(pools, t))
    assert round(compute / MOR) == 2_686_836
    assert round(total / MOR) == 8_508_314
    assert round(budget / MOR) == 26_868
    assert env.fn.getTodaysBudget(DEPLOYED_PAYOUT_START).call() == 0


def test_stipend_to_stake_is_zero_when_compute_balance_is_zero(env: Env) -> None:
    assert env.fn.stipendToStake(0, 0).call() == 0
    assert env.fn.stipendToStake(MOR, 0).call() == 0
    assert env.fn.stakeToStipend(MOR, 0).call() == 0


def test_start_of_the_day_truncates_to_utc_midnight(env: Env) -> None:
    for t in (0, 1, DAY - 1, DAY, NOW0, NOW0 + 12 * 3600 + 5):
        assert env.fn.startOfTheDay(t).call() == t - t % DAY


def test_claims_lower_compute_balance_and_raise_total_supply(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id)
    s = env.session(sid)
    env.travel(s.endsAt + 1)
    env.send(env.fn.claimForProvider(sid), env.provider)
    claimed = (s.endsAt - s.openedAt) * BID_PRICE
    t = env.now()
    assert env.fn.getProvidersTotalClaimed().call() == claimed
    assert env.fn.getComputeBalance(t).call() == compute_balance(POOLS, t) - claimed
    assert env.fn.totalMORSupply(t).call() == total_mor_supply(POOLS, t) + claimed
    assert env.fn.stakeToStipend(50 * MOR, t).call() == stake_to_stipend(POOLS, 50 * MOR, t, claimed)
    assert env.fn.stipendToStake(MOR, t).call() == stipend_to_stake(POOLS, MOR, t, claimed)


def test_signed_division_truncates_toward_zero() -> None:
    assert (tdiv(-1001, 2), tdiv(1001, 2), tdiv(-7, -2), tdiv(7, -2)) == (-500, 500, 3, -3)


# (provider index, receipt signed by the provider (no dispute), tpsScaled1000, ttftMs, seconds open)
STATS_SCRIPT = [
    (0, True, 1001, 7, 400),
    (1, True, 0, 3, 350),
    (0, True, 0, 12, 500),  # provider mean 1001 + (0 − 1001)/2 = 501 with truncation (floor would give 500)
    (1, True, 5000, 1, 300),
    (0, False, 999, 999, 310),  # disputed: only totalCount moves
    (0, True, 2, 20_000, 320),
]


def test_stats_follow_libsd_with_truncation_toward_zero(market: Market) -> None:
    env = market.env
    env.register_provider(env.provider2)
    bids = [market.bid_id, env.post_bid(env.provider2, market.model_id)]
    providers = [env.provider, env.provider2]
    model = StatsModel()
    for step, (who, honest, tps, ttft, seconds) in enumerate(STATS_SCRIPT):
        provider = providers[who]
        sid = env.open_session(bids[who], signer=provider)
        opened = env.session(sid).openedAt
        env.travel(opened + seconds)
        env.close_session(sid, signer=provider if honest else env.user, tps=tps, ttft=ttft)
        model.on_close(market.model_id, provider, honest, tps, ttft, seconds)
        for p in providers:
            got = env.sfn.getProviderModelStats(market.model_id, p).call()
            assert _plain(got) == model.provider_model(market.model_id, p).as_tuple(), f"step {step}, {p}"
        got_model = env.sfn.getModelStats(market.model_id).call()
        assert _plain(got_model) == model.model(market.model_id).as_tuple(), f"step {step}"
        if step == 2:
            assert model.provider_model(market.model_id, env.provider).tps.mean == 501
    assert env.session(sid).closeoutType == 0


def test_disputed_close_counts_only_total_and_marks_closeout_type(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id)
    env.close_session(sid, signer=env.user)
    stats = env.sfn.getProviderModelStats(market.model_id, env.provider).call()
    assert (stats.successCount, stats.totalCount, stats.totalDuration) == (0, 1, 0)
    assert env.sfn.getModelStats(market.model_id).call().count == 0
    assert env.session(sid).closeoutType == 1


def _plain(value: object) -> object:
    """Nested named tuples → plain tuples, for comparing with the reference."""
    if isinstance(value, tuple):
        return tuple(_plain(v) for v in value)
    return value


ODD_POOLS = [
    Pool(1_000 * MOR, 0, PAYOUT_START + 7, 3_600),  # constant reward, hourly intervals, not day-aligned
    Pool(999_999_999_999_999_999, 333_333_333_333_333_333, PAYOUT_START - 5 * DAY, 7 * DAY),  # ends after 3 weeks
    Pool(3456 * MOR, DECREASE, PAYOUT_START, DAY),
    Pool(10**24 + 7, 10**21 + 3, PAYOUT_START + 11, 86_399),  # compute pool: odd numbers everywhere
    Pool(1, 1, PAYOUT_START, 1),  # one wei, for one second
]


@pytest.fixture
def odd_pools(env: Env) -> Env:
    for i, pool in enumerate(ODD_POOLS):
        env.send(env.fn.setPoolConfig(i, pool.as_tuple()), env.owner)
    return env


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(offset=st.integers(min_value=-3 * DAY, max_value=7_000 * DAY), amount=st.integers(0, 10**27))
def test_views_match_reference_for_any_time_and_amount(env: Env, offset: int, amount: int) -> None:
    t = PAYOUT_START + offset
    assert env.fn.getComputeBalance(t).call() == compute_balance(POOLS, t)
    assert env.fn.totalMORSupply(t).call() == total_mor_supply(POOLS, t)
    assert env.fn.stakeToStipend(amount, t).call() == stake_to_stipend(POOLS, amount, t)
    assert env.fn.stipendToStake(amount, t).call() == stipend_to_stake(POOLS, amount, t)


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(offset=st.integers(min_value=-3 * DAY, max_value=400 * DAY), amount=st.integers(0, 10**24))
def test_views_match_reference_for_odd_pools(odd_pools: Env, offset: int, amount: int) -> None:
    t = PAYOUT_START + offset
    env = odd_pools
    assert env.fn.getComputeBalance(t).call() == compute_balance(ODD_POOLS, t)
    assert env.fn.totalMORSupply(t).call() == total_mor_supply(ODD_POOLS, t)
    assert env.fn.stakeToStipend(amount, t).call() == stake_to_stipend(ODD_POOLS, amount, t)
    assert env.fn.stipendToStake(amount, t).call() == stipend_to_stake(ODD_POOLS, amount, t)
