"""`claimForProvider`, the reward limiter and `withdrawUserStakes` (§6.6, §6.7, §6.8)."""

from __future__ import annotations

from .env import BID_PRICE, NOW0, POOLS, PROVIDER_STAKE, RULE_SESSION, SESSION_STAKE, Env, Market
from .reference import DAY, MOR, start_of_day, stipend_to_stake

MIDNIGHT = NOW0 + DAY // 2  # NOW0 is 12:00 UTC


def _disputed_close_after_midnight(env: Env, bid_id: bytes) -> bytes:
    """Open 600 s before midnight, close with the user's signature 300 s after it: 300 s stay withheld."""
    env.travel(MIDNIGHT - 600)
    sid = env.open_session(bid_id)
    env.travel(MIDNIGHT + 300)
    env.close_session(sid, signer=env.user)
    assert env.session(sid).providerWithdrawnAmount == 600 * BID_PRICE
    return sid


def _early_close(env: Env, bid_id: bytes, after: int) -> int:
    """Open, close early after `after` seconds with the provider's receipt; returns the stake put on hold."""
    sid = env.open_session(bid_id)
    opened = env.session(sid).openedAt
    env.travel(opened + after)
    # The user's lock is valued before this close pays the provider, so with the claims made so far.
    claimed = env.fn.getProvidersTotalClaimed().call()
    env.close_session(sid)
    return min(SESSION_STAKE, stipend_to_stake(POOLS, after * BID_PRICE, start_of_day(opened), claimed))


def test_claim_next_day_after_disputed_close_pays_withheld_remainder(market: Market) -> None:
    env = market.env
    sid = _disputed_close_after_midnight(env, market.bid_id)
    env.travel(MIDNIGHT + DAY + 10)
    before, funding_before = env.balance(env.provider), env.balance(env.funding)
    env.send(env.fn.claimForProvider(sid), env.provider)
    assert env.balance(env.provider) - before == 300 * BID_PRICE
    assert funding_before - env.balance(env.funding) == 300 * BID_PRICE
    assert env.session(sid).providerWithdrawnAmount == 900 * BID_PRICE


def test_claim_next_day_works_from_providers_session_delegatee(market: Market) -> None:
    env = market.env
    env.delegate(env.provider, env.delegatee, RULE_SESSION)
    sid = _disputed_close_after_midnight(env, market.bid_id)
    env.travel(MIDNIGHT + DAY + 10)
    before, delegatee_before = env.balance(env.provider), env.balance(env.delegatee)
    env.send(env.fn.claimForProvider(sid), env.delegatee)
    assert env.balance(env.provider) - before == 300 * BID_PRICE
    assert env.balance(env.delegatee) == delegatee_before


def test_claim_same_day_after_disputed_close_pays_nothing(market: Market) -> None:
    env = market.env
    sid = _disputed_close_after_midnight(env, market.bid_id)
    before = env.balance(env.provider)
    receipt = env.send(env.fn.claimForProvider(sid), env.provider)
    assert env.balance(env.provider) == before
    assert env.events(receipt, "Transfer", env.token) == []
    assert env.session(sid).providerWithdrawnAmount == 600 * BID_PRICE


def test_full_claim_after_end_on_open_session_pays_whole_duration(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id)
    s = env.session(sid)
    env.travel(s.endsAt + 5)
    before, funding_before = env.balance(env.provider), env.balance(env.funding)
    env.send(env.fn.claimForProvider(sid), env.provider)
    paid = (s.endsAt - s.openedAt) * BID_PRICE
    assert env.balance(env.provider) - before == paid
    assert funding_before - env.balance(env.funding) == paid
    assert env.fn.getProvidersTotalClaimed().call() == paid
    after = env.session(sid)
    assert (after.isActive, after.providerWithdrawnAmount) == (True, paid)
    # A second claim has nothing left to pay.
    env.send(env.fn.claimForProvider(sid), env.provider)
    assert env.balance(env.provider) - before == paid


def test_reward_limiter_caps_two_sessions_at_provider_stake(market: Market) -> None:
    env = market.env
    now = env.now()
    first = env.open_session(market.bid_id, approval=env.approval(market.bid_id, ts=now))
    second = env.open_session(market.bid_id, approval=env.approval(market.bid_id, ts=now - 1))
    ends = max(env.session(first).endsAt, env.session(second).endsAt)
    env.travel(ends + 1)
    before = env.balance(env.provider)
    env.send(env.fn.claimForProvider(first), env.provider)
    env.send(env.fn.claimForProvider(second), env.provider)
    full = sum((env.session(s).endsAt - env.session(s).openedAt) * BID_PRICE for s in (first, second))
    assert full > PROVIDER_STAKE  # two 1578 s sessions would earn 0.3156 MOR
    assert env.balance(env.provider) - before == PROVIDER_STAKE
    assert env.provider_record().limitPeriodEarned == PROVIDER_STAKE
    assert env.session(second).providerWithdrawnAmount == PROVIDER_STAKE - env.session(first).providerWithdrawnAmount


def test_claim_before_session_end_pays_nothing(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id)
    env.travel(env.session(sid).openedAt + 100)
    before = env.balance(env.provider)
    receipt = env.send(env.fn.claimForProvider(sid), env.provider)
    assert env.balance(env.provider) == before
    assert env.events(receipt, "Transfer", env.token) == []


def test_claim_by_non_provider_reverts_insufficient_rights(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id)
    with env.reverts("InsufficientRightsForOperation", env.provider, env.third):
        env.send(env.fn.claimForProvider(sid), env.third)


def test_same_day_claim_after_undisputed_early_close_panics_with_underflow(market: Market) -> None:
    # Quirk kept from upstream (§6.7): the on-hold part is subtracted even without a dispute.
    env = market.env
    sid = env.open_session(market.bid_id)
    env.travel(env.session(sid).openedAt + 600)
    env.close_session(sid)
    with env.reverts("Panic", 0x11):
        env.send(env.fn.claimForProvider(sid), env.provider)


def test_withdraw_user_stakes_after_release_pays_held_amount(market: Market) -> None:
    env = market.env
    lock = _early_close(env, market.bid_id, 600)
    assert env.fn.getUserStakesOnHold(env.user, 255).call() == [0, lock]
    env.travel(MIDNIGHT)  # released at the next UTC midnight
    assert env.fn.getUserStakesOnHold(env.user, 255).call() == [0, lock]  # view at the latest block
    env.mine()
    assert env.fn.getUserStakesOnHold(env.user, 255).call() == [lock, 0]
    before = env.balance(env.user)
    receipt = env.send(env.fn.withdrawUserStakes(env.user, 255), env.user)
    assert env.balance(env.user) - before == lock
    assert env.fn.getUserStakesOnHold(env.user, 255).call() == [0, 0]
    assert [(e["user"], e["amount_"]) for e in env.events(receipt, "UserWithdrawn")] == [(env.user, lock)]


def test_withdraw_user_stakes_works_from_session_delegatee(market: Market) -> None:
    env = market.env
    env.delegate(env.user, env.delegatee, RULE_SESSION)
    lock = _early_close(env, market.bid_id, 600)
    env.travel(MIDNIGHT + 1)
    before, delegatee_before = env.balance(env.user), env.balance(env.delegatee)
    env.send(env.fn.withdrawUserStakes(env.user, 10), env.delegatee)
    assert env.balance(env.user) - before == lock
    assert env.balance(env.delegatee) == delegatee_before


def test_withdraw_user_stakes_pays_only_released_entries(market: Market) -> None:
    env = market.env
    released = _early_close(env, market.bid_id, 600)
    env.travel(MIDNIGHT + 100)
    locked = _early_close(env, market.bid_id, 400)
    assert env.fn.getUserStakesOnHold(env.user, 255).call() == [released, locked]
    before = env.balance(env.user)
    env.send(env.fn.withdrawUserStakes(env.user, 255), env.user)
    assert env.balance(env.user) - before == released
    assert env.fn.getUserStakesOnHold(env.user, 255).call() == [0, locked]


def test_withdraw_user_stakes_one_iteration_releases_newest_first(market: Market) -> None:
    env = market.env
    older = _early_close(env, market.bid_id, 600)
    newer = _early_close(env, market.bid_id, 300)
    assert older != newer
    env.travel(MIDNIGHT + 1)
    before = env.balance(env.user)
    env.send(env.fn.withdrawUserStakes(env.user, 1), env.user)
    assert env.balance(env.user) - before == newer
    assert env.fn.getUserStakesOnHold(env.user, 255).call() == [older, 0]
    env.send(env.fn.withdrawUserStakes(env.user, 1), env.user)
    assert env.balance(env.user) - before == newer + older
    with env.reverts("SessionUserAmountToWithdrawIsZero"):
        env.send(env.fn.withdrawUserStakes(env.user, 1), env.user)


def test_withdraw_user_stakes_before_release_reverts_amount_is_zero(market: Market) -> None:
    env = market.env
    _early_close(env, market.bid_id, 600)
    with env.reverts("SessionUserAmountToWithdrawIsZero"):
        env.send(env.fn.withdrawUserStakes(env.user, 255), env.user)


def test_withdraw_user_stakes_with_zero_iterations_reverts_amount_is_zero(market: Market) -> None:
    env = market.env
    _early_close(env, market.bid_id, 600)
    env.travel(MIDNIGHT + 1)
    with env.reverts("SessionUserAmountToWithdrawIsZero"):
        env.send(env.fn.withdrawUserStakes(env.user, 0), env.user)


def test_withdraw_user_stakes_without_entries_reverts_amount_is_zero(env: Env) -> None:
    with env.reverts("SessionUserAmountToWithdrawIsZero"):
        env.send(env.fn.withdrawUserStakes(env.user, 255), env.user)


def test_withdraw_user_stakes_by_stranger_reverts_insufficient_rights(env: Env) -> None:
    with env.reverts("InsufficientRightsForOperation", env.user, env.third):
        env.send(env.fn.withdrawUserStakes(env.user, 255), env.third)


def test_claim_for_unknown_session_reverts_insufficient_rights(market: Market) -> None:
    env = market.env
    zero = "0x0000000000000000000000000000000000000000"
    with env.reverts("InsufficientRightsForOperation", zero, env.provider):
        env.send(env.fn.claimForProvider(b"\x07" * 32), env.provider)


def test_reward_limiter_resets_after_the_period(market: Market) -> None:
    env = market.env
    first = env.open_session(market.bid_id, 100 * MOR)  # 3157 s ≈ 0.3157 MOR of usage, capped at 0.2 MOR
    env.travel(env.session(first).endsAt + 1)
    env.send(env.fn.claimForProvider(first), env.provider)
    assert env.provider_record().limitPeriodEarned == PROVIDER_STAKE
    period_end = env.provider_record().limitPeriodEnd
    env.travel(period_end + 10)
    second = env.open_session(market.bid_id)
    s = env.session(second)
    env.travel(s.endsAt + 1)
    before = env.balance(env.provider)
    receipt = env.send(env.fn.claimForProvider(second), env.provider)
    paid = (s.endsAt - s.openedAt) * BID_PRICE
    assert env.balance(env.provider) - before == paid
    record = env.provider_record()
    assert (record.limitPeriodEarned, record.limitPeriodEnd) == (paid, env.block_time(receipt) + 365 * DAY)


def test_claim_exactly_at_end_pays_and_one_second_earlier_pays_nothing(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id)
    s = env.session(sid)
    env.travel(s.endsAt - 1)
    before = env.balance(env.provider)
    env.send(env.fn.claimForProvider(sid), env.provider)
    assert env.balance(env.provider) == before
    env.send(env.fn.claimForProvider(sid), env.provider)  # mined at endsAt
    assert env.balance(env.provider) - before == (s.endsAt - s.openedAt) * BID_PRICE


def test_claim_emits_only_the_token_transfer(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id)
    env.travel(env.session(sid).endsAt + 1)
    receipt = env.send(env.fn.claimForProvider(sid), env.provider)
    assert {lg["address"] for lg in receipt["logs"]} == {env.token.address}
    assert len(env.events(receipt, "Transfer", env.token)) == 1
