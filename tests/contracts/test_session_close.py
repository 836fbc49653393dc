"""`closeSession`: provider pay, user refund and on-hold stake, disputes, receipts and errors (§6.5, §6.6, §7)."""

from __future__ import annotations

from eth_utils.crypto import keccak

from .env import (
    BID_PRICE,
    NOW0,
    POOLS,
    PROVIDER_STAKE,
    RULE_PROVIDER,
    RULE_SESSION,
    SESSION_STAKE,
    Env,
    Market,
)
from .reference import DAY, MOR, start_of_day, stipend_to_stake
from .subnet import register_contract_provider

ZERO = "0x0000000000000000000000000000000000000000"
SESSION_CLOSED_TOPIC = "337fbb0a41a596db800dc836595a57815f967185e3596615c646f2455ac3914a"
MIDNIGHT = NOW0 + DAY // 2  # NOW0 is 12:00 UTC


def _balances(env: Env) -> dict[str, int]:
    return {who: env.balance(addr) for who, addr in (
        ("user", env.user), ("provider", env.provider), ("funding", env.funding),
        ("diamond", env.diamond.address))}


def _delta(env: Env, before: dict[str, int]) -> dict[str, int]:
    after = _balances(env)
    return {k: after[k] - before[k] for k in before}


def _lock(duration: int, sod: int) -> int:
    """The user stake put on hold by an early close: the stake that today's `duration` of usage represents."""
    return min(SESSION_STAKE, stipend_to_stake(POOLS, duration * BID_PRICE, sod))


def test_close_after_end_refunds_whole_stake_and_pays_provider_from_funding(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id)
    s = env.session(sid)
    env.travel(s.endsAt + 100)
    before = _balances(env)
    receipt = env.close_session(sid, signer=env.user)  # a non-provider signature: late closes pay anyway
    paid = (s.endsAt - s.openedAt) * BID_PRICE
    assert _delta(env, before) == {"user": SESSION_STAKE, "provider": paid, "funding": -paid,
                                   "diamond": -SESSION_STAKE}
    closed = env.session(sid)
    assert (closed.isActive, closed.closedAt, closed.providerWithdrawnAmount) == (
        False, env.block_time(receipt), paid)
    assert env.provider_record().limitPeriodEarned == paid
    assert env.fn.getProvidersTotalClaimed().call() == paid
    assert env.fn.getUserStakesOnHold(env.user, 255).call() == [0, 0]


def test_close_after_end_works_from_session_delegatee(market: Market) -> None:
    env = market.env
    env.delegate(env.user, env.delegatee, RULE_SESSION)
    sid = env.open_session(market.bid_id)
    s = env.session(sid)
    env.travel(s.endsAt + 1)
    before = _balances(env)
    env.close_session(sid, sender=env.delegatee)
    paid = (s.endsAt - s.openedAt) * BID_PRICE
    assert _delta(env, before) == {"user": SESSION_STAKE, "provider": paid, "funding": -paid,
                                   "diamond": -SESSION_STAKE}
    assert env.fn.getUserStakesOnHold(env.user, 255).call() == [0, 0]


def test_early_close_without_dispute_pays_provider_immediately(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id)
    opened = env.session(sid).openedAt
    env.travel(opened + 600)
    before = _balances(env)
    env.close_session(sid)
    lock = _lock(600, start_of_day(opened))
    assert lock == 19 * MOR  # 600 s × 1e14 wei/s = 0.06 MOR of stipend ↔ 0.06 × 1900/6 MOR of stake
    assert _delta(env, before) == {"user": SESSION_STAKE - lock, "provider": 600 * BID_PRICE,
                                   "funding": -600 * BID_PRICE, "diamond": -(SESSION_STAKE - lock)}
    s = env.session(sid)
    assert (s.closeoutType, s.providerWithdrawnAmount) == (0, 600 * BID_PRICE)


def test_user_early_close_puts_part_of_stake_on_hold(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id)
    opened = env.session(sid).openedAt
    env.travel(opened + 1000)
    before = env.balance(env.user)
    env.close_session(sid, signer=env.user)
    available, hold = env.fn.getUserStakesOnHold(env.user, 0).call()
    refund = env.balance(env.user) - before
    assert (available, hold) == (0, _lock(1000, start_of_day(opened)))
    assert hold > 0
    assert refund < SESSION_STAKE
    assert refund + hold == SESSION_STAKE
    # The stats views keep working after a disputed close.
    assert env.sfn.getProviderModelStats(market.model_id, env.provider).call().totalCount == 1
    assert env.sfn.getModelStats(market.model_id).call().count == 0


def test_early_disputed_close_just_after_midnight_pays_only_the_part_before_midnight(market: Market) -> None:
    env = market.env
    env.travel(MIDNIGHT - 600)
    sid = env.open_session(market.bid_id)
    s = env.session(sid)
    assert s.openedAt == MIDNIGHT - 600
    assert s.endsAt > MIDNIGHT + 300
    env.travel(MIDNIGHT + 300)
    before = _balances(env)
    env.close_session(sid, signer=env.user)
    lock = _lock(300, MIDNIGHT)  # only today's 300 s are locked, valued at today's budget
    assert _delta(env, before) == {"user": SESSION_STAKE - lock, "provider": 600 * BID_PRICE,
                                   "funding": -600 * BID_PRICE, "diamond": -(SESSION_STAKE - lock)}
    closed = env.session(sid)
    assert (closed.closeoutType, closed.providerWithdrawnAmount) == (1, 600 * BID_PRICE)


def test_early_disputed_close_before_midnight_pays_provider_nothing(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id)
    env.travel(env.session(sid).openedAt + 600)
    before = _balances(env)
    receipt = env.close_session(sid, signer=env.user)
    delta = _delta(env, before)
    assert (delta["provider"], delta["funding"]) == (0, 0)
    assert env.session(sid).providerWithdrawnAmount == 0
    assert env.provider_record().limitPeriodEarned == 0
    assert not [t for t in env.events(receipt, "Transfer", env.token) if t["to"] == env.provider]


def test_direct_session_early_close_pays_provider_from_the_diamond(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id, direct=True)
    opened = env.session(sid).openedAt
    env.travel(opened + 600)
    before = _balances(env)
    env.close_session(sid)
    paid = 600 * BID_PRICE
    user_stake = SESSION_STAKE - paid
    lock = min(user_stake, stipend_to_stake(POOLS, paid, start_of_day(opened)))
    assert _delta(env, before) == {"user": user_stake - lock, "provider": paid, "funding": 0,
                                   "diamond": -(user_stake - lock) - paid}
    assert env.fn.getUserStakesOnHold(env.user, 255).call() == [0, lock]


def test_claim_after_end_then_close_refunds_stake_minus_paid(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id, direct=True)
    s = env.session(sid)
    env.travel(s.endsAt + 10)
    before = _balances(env)
    env.send(env.fn.claimForProvider(sid), env.provider)
    paid = (s.endsAt - s.openedAt) * BID_PRICE
    assert _delta(env, before) == {"user": 0, "provider": paid, "funding": 0, "diamond": -paid}
    before = _balances(env)
    env.close_session(sid)
    assert _delta(env, before) == {"user": SESSION_STAKE - paid, "provider": 0, "funding": 0,
                                   "diamond": -(SESSION_STAKE - paid)}
    assert env.session(sid).providerWithdrawnAmount == paid


def test_receipt_signed_by_provider_delegatee_is_not_a_dispute(market: Market) -> None:
    env = market.env
    env.delegate(env.provider, env.provider_signer, RULE_PROVIDER)
    sid = env.open_session(market.bid_id)
    env.travel(env.session(sid).openedAt + 600)
    before = env.balance(env.provider)
    env.close_session(sid, signer=env.provider_signer)
    assert env.session(sid).closeoutType == 0
    assert env.balance(env.provider) - before == 600 * BID_PRICE


def test_close_stores_the_receipt_and_emits_session_closed(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id)
    raw = env.receipt(sid)
    receipt = env.close_session(sid, receipt=raw)
    s = env.session(sid)
    assert (s.closeoutReceipt, s.closedAt, s.isActive) == (raw, env.block_time(receipt), False)
    log = next(lg for lg in receipt["logs"] if lg["address"] == env.diamond.address
               and lg["topics"][0].hex().removeprefix("0x") == SESSION_CLOSED_TOPIC)
    assert len(log["topics"]) == 4
    assert [(e["user"], e["sessionId"], e["providerId"]) for e in env.events(receipt, "SessionClosed")] == [
        (env.user, sid, env.provider)]


def test_close_accepts_224_byte_go_receipt(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id)
    raw = env.receipt(sid, tokens=(120, 340))
    assert len(raw) == 224
    env.close_session(sid, receipt=raw)
    s = env.session(sid)
    assert (s.closeoutReceipt, s.closeoutType) == (raw, 0)


def test_close_with_millisecond_receipt_timestamp_passes_ttl(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id)
    env.travel(env.now() + 5_000)
    env.close_session(sid, receipt=env.receipt(sid, ts=env.now() * 1000))
    assert env.session(sid).isActive is False


def test_close_exactly_at_ttl_is_accepted(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id)
    env.close_session(sid, receipt=env.receipt(sid, ts=env.now() + 1 - 600))
    assert env.session(sid).isActive is False


def test_close_after_ttl_reverts_receipt_expired(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id)
    with env.reverts("SessionReceiptExpired"):
        env.close_session(sid, receipt=env.receipt(sid, ts=env.now() + 1 - 601))


def test_close_with_other_chain_id_reverts_receipt_for_another_chain(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id)
    with env.reverts("SessionReceiptForAnotherChainId"):
        env.close_session(sid, receipt=env.receipt(sid, chain_id=env.chain_id + 1))


def test_close_unknown_session_reverts_insufficient_rights(market: Market) -> None:
    env = market.env
    with env.reverts("InsufficientRightsForOperation", ZERO, env.user):
        env.close_session(keccak(text="no session"))


def test_close_by_foreign_caller_reverts_insufficient_rights(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id)
    for caller in (env.third, env.provider):  # not even the provider may close
        with env.reverts("InsufficientRightsForOperation", env.user, caller):
            env.close_session(sid, sender=caller)


def test_close_twice_reverts_already_closed(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id)
    env.close_session(sid)
    with env.reverts("SessionAlreadyClosed"):
        env.close_session(sid)


def test_close_with_short_signature_reverts_ecdsa_length(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id)
    raw = env.receipt(sid)
    with env.reverts("Error", "ECDSA: invalid signature length"):
        env.send(env.fn.closeSession(raw, env.sign(raw, env.user)[:64]), env.user)


def test_provider_deregistration_after_earning_refunds_stake_minus_earned(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id)
    s = env.session(sid)
    env.travel(s.endsAt + 1)
    env.close_session(sid)
    earned = (s.endsAt - s.openedAt) * BID_PRICE
    env.send(env.fn.deleteModelBid(market.bid_id), env.provider)
    before = env.balance(env.provider)
    env.send(env.fn.providerDeregister(env.provider), env.provider)
    assert env.balance(env.provider) - before == PROVIDER_STAKE - earned
    assert env.provider_record().stake == earned


def test_early_close_on_a_later_day_locks_only_todays_usage(market: Market) -> None:
    env = market.env
    env.register_provider(amount=10 * MOR)  # a top-up, so the limiter does not cap this long session
    sid = env.open_session(market.bid_id, 3_000 * MOR)  # capped at one day
    s = env.session(sid)
    env.travel(MIDNIGHT + 3600)
    assert env.now() + 1 < s.endsAt
    before = _balances(env)
    receipt = env.close_session(sid)
    closed = env.block_time(receipt)
    lock = min(3_000 * MOR, stipend_to_stake(POOLS, (closed - MIDNIGHT) * BID_PRICE, MIDNIGHT))
    paid = (closed - s.openedAt) * BID_PRICE
    assert _delta(env, before) == {"user": 3_000 * MOR - lock, "provider": paid, "funding": -paid,
                                   "diamond": -(3_000 * MOR - lock)}
    assert env.fn.getUserStakesOnHold(env.user, 255).call() == [0, lock]


def test_disputed_close_with_registry_without_code_reverts(market: Market) -> None:
    # §7: a non-provider signer makes the diamond ask the delegate registry; an address without code reverts.
    env = market.env
    sid = env.open_session(market.bid_id)
    env.send(env.fn.setRegistry(env.third), env.owner)
    with env.reverts("<empty>"):
        env.close_session(sid, signer=env.user)
    env.close_session(sid)  # the provider's own receipt needs no registry
    assert env.session(sid).closeoutType == 0


def test_close_exactly_at_end_is_late_and_locks_nothing(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id)
    s = env.session(sid)
    env.travel(s.endsAt)
    before = _balances(env)
    env.close_session(sid, signer=env.user)
    paid = (s.endsAt - s.openedAt) * BID_PRICE
    assert _delta(env, before) == {"user": SESSION_STAKE, "provider": paid, "funding": -paid,
                                   "diamond": -SESSION_STAKE}
    assert env.fn.getUserStakesOnHold(env.user, 255).call() == [0, 0]


def test_direct_disputed_close_charges_user_for_all_usage_and_withholds_todays_pay(market: Market) -> None:
    env = market.env
    env.travel(MIDNIGHT - 600)
    sid = env.open_session(market.bid_id, direct=True)
    env.travel(MIDNIGHT + 300)
    before = _balances(env)
    env.close_session(sid, signer=env.user)
    used = 900 * BID_PRICE  # the user pays for every second used, disputed or not
    lock = min(SESSION_STAKE - used, stipend_to_stake(POOLS, 300 * BID_PRICE, MIDNIGHT))
    assert _delta(env, before) == {"user": SESSION_STAKE - used - lock, "provider": 600 * BID_PRICE,
                                   "funding": 0, "diamond": -(SESSION_STAKE - used - lock) - 600 * BID_PRICE}
    env.travel(MIDNIGHT + DAY)
    before = _balances(env)
    env.send(env.fn.claimForProvider(sid), env.provider)
    assert _delta(env, before) == {"user": 0, "provider": 300 * BID_PRICE, "funding": 0,
                                   "diamond": -300 * BID_PRICE}


def test_close_pays_provider_at_most_its_stake(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id, 100 * MOR)  # 3157 s ≈ 0.3157 MOR of usage
    s = env.session(sid)
    assert (s.endsAt - s.openedAt) * BID_PRICE > PROVIDER_STAKE
    env.travel(s.endsAt + 1)
    before = _balances(env)
    env.close_session(sid)
    assert _delta(env, before) == {"user": 100 * MOR, "provider": PROVIDER_STAKE, "funding": -PROVIDER_STAKE,
                                   "diamond": -100 * MOR}
    assert env.session(sid).providerWithdrawnAmount == PROVIDER_STAKE


def test_close_checks_the_receipt_before_rights(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id)
    with env.reverts("SessionReceiptForAnotherChainId"):
        env.close_session(sid, sender=env.third, receipt=env.receipt(sid, chain_id=env.chain_id + 1))


def test_receipt_signed_by_owner_of_provider_contract_is_not_a_dispute(market: Market) -> None:
    env = market.env
    subnet = register_contract_provider(env, env.provider_signer, market.model_id)
    sid = env.open_session(subnet.bid_id, signer=subnet.owner)
    env.travel(env.session(sid).openedAt + 600)
    before = env.balance(subnet.address)
    env.close_session(sid, signer=subnet.owner)
    assert env.session(sid).closeoutType == 0
    assert env.balance(subnet.address) - before == 600 * BID_PRICE
