"""SessionRouter setup and `openSession`: pools, max duration, approvals, delegation, errors (§4.4, §6.4, §7)."""

from __future__ import annotations

from eth_utils.crypto import keccak

from .env import (
    BID_PRICE,
    FULL_RIGHTS,
    MAX_SESSION_DURATION,
    NOW0,
    PAYOUT_START,
    POOLS,
    RULE_MARKETPLACE,
    RULE_PROVIDER,
    RULE_SESSION,
    SESSION_STAKE,
    Env,
    Market,
)
from .reference import DAY, MOR, Pool, session_end, todays_budget
from .subnet import register_contract_provider

SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SESSION_OPENED_TOPIC = "2bd7c890baf595977d256a6e784512c873ac58ba612b4895dbb7f784bfbf4839"


def test_init_sets_funding_account_pools_and_max_duration(env: Env) -> None:
    assert env.fn.getFundingAccount().call() == env.funding
    assert [tuple(p) for p in env.sfn.getPools().call()] == [p.as_tuple() for p in POOLS]
    assert tuple(env.sfn.getPool(3).call()) == POOLS[3].as_tuple()
    assert env.fn.getMaxSessionDuration().call() == MAX_SESSION_DURATION


def test_todays_budget_is_zero_at_payout_start_and_positive_ten_days_later(env: Env) -> None:
    assert env.fn.getTodaysBudget(PAYOUT_START).call() == 0
    budget = env.fn.getTodaysBudget(PAYOUT_START + 10 * DAY).call()
    assert budget > 0
    assert budget == todays_budget(POOLS, PAYOUT_START + 10 * DAY)


def test_set_pool_config_replaces_a_pool(env: Env) -> None:
    pool = Pool(1 * MOR, 0, PAYOUT_START, 3600)
    env.send(env.fn.setPoolConfig(2, pool.as_tuple()), env.owner)
    assert tuple(env.sfn.getPool(2).call()) == pool.as_tuple()
    assert len(env.sfn.getPools().call()) == 5


def test_set_pool_config_out_of_range_reverts_index_out_of_bounds(env: Env) -> None:
    with env.reverts("SessionPoolIndexOutOfBounds"):
        env.send(env.fn.setPoolConfig(5, POOLS[0].as_tuple()), env.owner)


def test_set_pool_config_by_non_owner_reverts_unauthorized(env: Env) -> None:
    with env.reverts("OwnableUnauthorizedAccount", env.third):
        env.send(env.fn.setPoolConfig(0, POOLS[0].as_tuple()), env.third)


def test_set_max_session_duration_accepts_seven_and_eight_days(env: Env) -> None:
    for days in (7, 8):
        env.send(env.fn.setMaxSessionDuration(days * DAY), env.owner)
        assert env.fn.getMaxSessionDuration().call() == days * DAY
    env.send(env.fn.setMaxSessionDuration(300), env.owner)  # the minimum itself is allowed


def test_set_max_session_duration_too_short_reverts(env: Env) -> None:
    for value in (1, 299):
        with env.reverts("SessionMaxDurationTooShort"):
            env.send(env.fn.setMaxSessionDuration(value), env.owner)


def test_set_max_session_duration_by_non_owner_reverts_unauthorized(env: Env) -> None:
    with env.reverts("OwnableUnauthorizedAccount", env.third):
        env.send(env.fn.setMaxSessionDuration(7 * DAY), env.third)


def test_open_stores_every_session_field_and_moves_the_stake(market: Market) -> None:
    env = market.env
    user_before, diamond_before = env.balance(env.user), env.balance(env.diamond.address)
    approval = env.approval(market.bid_id)
    signature = env.sign(approval, env.provider)
    assert env.fn.getIsProviderApprovalUsed(approval).call() is False
    receipt = env.send(env.fn.openSession(env.user, SESSION_STAKE, False, approval, signature), env.user)
    opened_at = env.block_time(receipt)
    sid = env.fn.getSessionId(env.user, env.provider, market.bid_id, 0).call()
    s = env.session(sid)
    ends_at = session_end(POOLS, SESSION_STAKE, BID_PRICE, opened_at, MAX_SESSION_DURATION)
    assert tuple(s) == (env.user, market.bid_id, SESSION_STAKE, b"", 0, 0, opened_at, ends_at, 0, True, False)
    assert ends_at - opened_at == 1578  # 50 MOR × 6/1900 / 1e14 wei/s
    assert user_before - env.balance(env.user) == SESSION_STAKE
    assert env.balance(env.diamond.address) - diamond_before == SESSION_STAKE
    assert env.fn.getIsProviderApprovalUsed(approval).call() is True
    assert env.fn.getUserSessions(env.user, 0, 10).call() == [[sid], 1]
    assert env.fn.getProviderSessions(env.provider, 0, 10).call() == [[sid], 1]
    assert env.fn.getModelSessions(market.model_id, 0, 10).call() == [[sid], 1]
    assert env.fn.getTotalSessions(env.provider).call() == 1
    log = next(lg for lg in receipt["logs"] if lg["address"] == env.diamond.address)
    assert log["topics"][0].hex().removeprefix("0x") == SESSION_OPENED_TOPIC
    assert [(e["user"], e["sessionId"], e["providerId"]) for e in env.events(receipt, "SessionOpened")] == [
        (env.user, sid, env.provider)]


def test_open_from_session_delegatee_pulls_tokens_from_user(market: Market) -> None:
    env = market.env
    env.delegate(env.user, env.delegatee, RULE_SESSION)
    user_before, delegatee_before = env.balance(env.user), env.balance(env.delegatee)
    sid = env.open_session(market.bid_id, sender=env.delegatee)
    assert env.session(sid).user == env.user
    assert user_before - env.balance(env.user) == SESSION_STAKE
    assert env.balance(env.delegatee) == delegatee_before


def test_open_accepts_approval_signed_by_provider_delegatee(market: Market) -> None:
    env = market.env
    env.delegate(env.user, env.delegatee, RULE_SESSION)
    env.delegate(env.provider, env.provider_signer, RULE_PROVIDER)
    sid = env.open_session(market.bid_id, sender=env.delegatee, signer=env.provider_signer)
    assert env.session(sid).isActive is True


def test_two_approvals_give_two_sessions_with_global_nonces(market: Market) -> None:
    env = market.env
    now = env.now()
    first = env.open_session(market.bid_id, approval=env.approval(market.bid_id, ts=now))
    second = env.open_session(market.bid_id, approval=env.approval(market.bid_id, ts=now - 1))
    assert first == env.fn.getSessionId(env.user, env.provider, market.bid_id, 0).call()
    assert second == env.fn.getSessionId(env.user, env.provider, market.bid_id, 1).call()
    assert env.fn.getTotalSessions(env.provider).call() == 2
    assert env.fn.getUserSessions(env.user, 0, 10).call() == [[first, second], 2]


def test_session_nonce_is_global_across_users(market: Market) -> None:
    env = market.env
    env.open_session(market.bid_id)
    sid = env.open_session(market.bid_id, user=env.third)
    assert sid == env.fn.getSessionId(env.third, env.provider, market.bid_id, 1).call()


def test_large_stake_caps_session_at_max_duration(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id, 3_000 * MOR)
    s = env.session(sid)
    assert s.endsAt - s.openedAt == MAX_SESSION_DURATION


def test_direct_payment_open_sets_the_flag(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id, direct=True)
    assert env.session(sid).isDirectPaymentFromUser is True


def test_open_with_other_chain_id_reverts_approved_for_another_chain(market: Market) -> None:
    env = market.env
    with env.reverts("SessionApprovedForAnotherChainId"):
        env.open_session(market.bid_id, approval=env.approval(market.bid_id, chain_id=env.chain_id + 1))


def test_open_after_ttl_reverts_approve_expired(market: Market) -> None:
    env = market.env
    open_time = env.now() + 1
    with env.reverts("SessionApproveExpired"):
        env.open_session(market.bid_id, approval=env.approval(market.bid_id, ts=open_time - 601))


def test_open_exactly_at_ttl_is_accepted(market: Market) -> None:
    env = market.env
    open_time = env.now() + 1
    env.open_session(market.bid_id, approval=env.approval(market.bid_id, ts=open_time - 600))


def test_open_with_millisecond_approval_timestamp_passes_ttl(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id, approval=env.approval(market.bid_id, ts=env.now() * 1000))
    assert env.session(sid).isActive is True


def test_approval_user_field_is_not_checked(market: Market) -> None:
    env = market.env
    sid = env.open_session(market.bid_id, approval=env.approval(market.bid_id, user=env.third))
    assert env.session(sid).user == env.user


def test_open_by_stranger_reverts_insufficient_rights(market: Market) -> None:
    env = market.env
    with env.reverts("InsufficientRightsForOperation", env.user, env.third):
        env.open_session(market.bid_id, sender=env.third)


def test_open_by_delegatee_with_wrong_rule_reverts_insufficient_rights(market: Market) -> None:
    env = market.env
    env.delegate(env.user, env.delegatee, RULE_MARKETPLACE)
    with env.reverts("InsufficientRightsForOperation", env.user, env.delegatee):
        env.open_session(market.bid_id, sender=env.delegatee)


def test_open_with_unknown_bid_reverts_bid_not_found(market: Market) -> None:
    env = market.env
    with env.reverts("SessionBidNotFound"):
        env.open_session(keccak(text="no bid"))


def test_open_with_deleted_bid_reverts_bid_not_found(market: Market) -> None:
    env = market.env
    env.send(env.fn.deleteModelBid(market.bid_id), env.provider)
    with env.reverts("SessionBidNotFound"):
        env.open_session(market.bid_id)


def test_open_with_non_provider_signer_reverts_signature_mismatch(market: Market) -> None:
    env = market.env
    with env.reverts("SessionProviderSignatureMismatch"):
        env.open_session(market.bid_id, signer=env.third)


def test_open_with_reused_approval_reverts_duplicate_approval(market: Market) -> None:
    env = market.env
    approval = env.approval(market.bid_id)
    env.open_session(market.bid_id, approval=approval)
    with env.reverts("SessionDuplicateApproval"):
        env.open_session(market.bid_id, approval=approval)


def test_open_with_zero_budget_reverts_too_short(market: Market) -> None:
    env = market.env
    later = Pool(POOLS[3].initial_reward, POOLS[3].reward_decrease, NOW0 + 10 * DAY, DAY)
    env.send(env.fn.setPoolConfig(3, later.as_tuple()), env.owner)
    assert env.fn.getTodaysBudget(env.now()).call() == 0
    with env.reverts("SessionTooShort"):
        env.open_session(market.bid_id)


def test_open_with_stake_below_300_seconds_reverts_too_short(market: Market) -> None:
    env = market.env
    # 300 s × 1e14 wei/s = 0.03 MOR of stipend needs 9.5 MOR of stake; 9 MOR buys only 284 s.
    with env.reverts("SessionTooShort"):
        env.open_session(market.bid_id, 9 * MOR)
    env.open_session(market.bid_id, 95 * MOR // 10)


def test_open_with_short_signature_reverts_ecdsa_length(market: Market) -> None:
    env = market.env
    approval = env.approval(market.bid_id)
    signature = env.sign(approval, env.provider)[:64]
    with env.reverts("Error", "ECDSA: invalid signature length"):
        env.send(env.fn.openSession(env.user, SESSION_STAKE, False, approval, signature), env.user)


def test_open_with_high_s_signature_reverts_ecdsa_s_value(market: Market) -> None:
    env = market.env
    approval = env.approval(market.bid_id)
    signature = env.sign(approval, env.provider)
    r, s, v = signature[:32], int.from_bytes(signature[32:64], "big"), signature[64]
    malleable = r + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - v])  # 27 ↔ 28
    with env.reverts("Error", "ECDSA: invalid signature 's' value"):
        env.send(env.fn.openSession(env.user, SESSION_STAKE, False, approval, malleable), env.user)


def test_session_lists_paginate_with_total_length(market: Market) -> None:
    env = market.env
    ids = [env.open_session(market.bid_id) for _ in range(3)]
    assert env.fn.getUserSessions(env.user, 0, 0).call() == [[], 3]
    assert env.fn.getProviderSessions(env.provider, 1, 1).call() == [ids[1:2], 3]
    assert env.fn.getModelSessions(market.model_id, 2, 5).call() == [ids[2:], 3]
    assert env.fn.getUserSessions(env.user, 3, 5).call() == [[], 3]


def test_open_from_fully_delegated_delegatee(market: Market) -> None:
    env = market.env
    env.delegate(env.user, env.delegatee, FULL_RIGHTS)  # rights 0 satisfy every rule
    sid = env.open_session(market.bid_id, sender=env.delegatee)
    assert env.session(sid).user == env.user


def test_open_checks_rights_before_the_approval(market: Market) -> None:
    env = market.env
    with env.reverts("InsufficientRightsForOperation", env.user, env.third):
        env.open_session(market.bid_id, sender=env.third,
                         approval=env.approval(market.bid_id, chain_id=env.chain_id + 1))


def test_pool_and_duration_setters_emit_no_event(env: Env) -> None:
    for receipt in (env.send(env.fn.setPoolConfig(0, POOLS[0].as_tuple()), env.owner),
                    env.send(env.fn.setMaxSessionDuration(7 * DAY), env.owner)):
        assert receipt["logs"] == []


def test_open_accepts_approval_signed_by_owner_of_a_provider_contract(market: Market) -> None:
    env = market.env
    subnet = register_contract_provider(env, env.provider_signer, market.model_id)
    assert env.bid(subnet.bid_id).provider == subnet.address
    sid = env.open_session(subnet.bid_id, signer=subnet.owner)
    assert env.session(sid).bidId == subnet.bid_id
    with env.reverts("SessionProviderSignatureMismatch"):
        env.open_session(subnet.bid_id, signer=env.third)
