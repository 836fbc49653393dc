"""The open-session preview's arithmetic against the contract rules (spec §6.3–6.5), with hand-computed values."""

from __future__ import annotations

from app.gui.marketplace.quote import DAY, QuoteInputs, quote, stake_for, start_of_day
from app.router.consumer.sessions import open_stake

MOR = 10**18
# supply/budget = 300: a stake of 300 × (price × duration) buys that stipend (compute/total ≈ 1/3 → /100).
INPUTS = QuoteInputs(supply=3_000_000 * MOR, budget=10_000 * MOR, now=10 * DAY + 3600, max_session_s=DAY)
PRICE = 10**13  # wei per second


def test_stake_mode_stakes_supply_times_cost_over_budget_and_refunds_all_at_expiry() -> None:
    q = quote(INPUTS, PRICE, 3600, direct=False)
    assert q.amount == 300 * PRICE * 3600 == stake_for(INPUTS.supply, INPUTS.budget, PRICE, 3600)
    assert q.ends_at == INPUTS.now + 3600
    assert q.refund_at_expiry == q.amount
    assert q.your_cost_at_expiry == 0
    assert q.provider_cost == PRICE * 3600


def test_stake_mode_early_close_holds_todays_usage_until_midnight_utc() -> None:
    q = quote(INPUTS, PRICE, 3600, direct=False)
    used = 1800 * PRICE  # closed at half time, same UTC day
    assert q.on_hold_early == 300 * used
    assert q.refund_early_now == q.amount - 300 * used
    assert q.hold_release_at == start_of_day(INPUTS.now) + DAY


def test_direct_pay_sends_what_the_consumer_sends_and_costs_exactly_the_time_at_expiry() -> None:
    q = quote(INPUTS, PRICE, 3600, direct=True)
    # The consumer sends max(stake formula, price × duration): the contract derives the end from the stake in both
    # modes. At supply/budget = 300 the stake formula is the larger one; the excess comes back at expiry.
    assert q.amount == open_stake(INPUTS.supply, INPUTS.budget, PRICE, 3600, direct=True) == 300 * PRICE * 3600
    assert q.refund_at_expiry == q.amount - PRICE * 3600
    assert q.your_cost_at_expiry == PRICE * 3600


def test_direct_pay_early_close_pays_the_provider_for_time_used_and_holds_todays_usage() -> None:
    q = quote(INPUTS, PRICE, 3600, direct=True)
    user_stake = q.amount - 1800 * PRICE  # the provider was paid for the half hour used
    # the stake value of today's usage (1,800 s, ×300 at this supply/budget) waits for midnight; the rest is back now
    assert q.on_hold_early == 300 * 1800 * PRICE
    assert q.refund_early_now == user_stake - q.on_hold_early


def test_early_close_after_midnight_only_holds_usage_since_midnight() -> None:
    late_evening = QuoteInputs(INPUTS.supply, INPUTS.budget, now=11 * DAY - 600, max_session_s=DAY)
    q = quote(late_evening, PRICE, 3600, direct=False)  # closes at 00:20 UTC next day
    assert q.on_hold_early == 300 * (1200 * PRICE)
    assert q.hold_release_at == 12 * DAY


def test_duration_is_clamped_to_the_contract_limits() -> None:
    assert quote(INPUTS, PRICE, 60, direct=False).duration_s == 300
    assert quote(INPUTS, PRICE, 10 * DAY, direct=False).duration_s == DAY
