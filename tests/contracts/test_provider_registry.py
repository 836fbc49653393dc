"""ProviderRegistry facet: minimum stake, registration, top-ups, re-activation, deregistration (§4.1)."""

from __future__ import annotations

from .env import ENDPOINT, PROVIDER_STAKE, RULE_MODEL, RULE_PROVIDER, Env, Market
from .reference import DAY, MOR

YEAR = 365 * DAY


def test_provider_set_min_stake_is_owner_only(env: Env) -> None:
    with env.reverts("OwnableUnauthorizedAccount", env.third):
        env.send(env.fn.providerSetMinStake(1), env.third)
    receipt = env.send(env.fn.providerSetMinStake(3 * MOR), env.owner)
    assert [e["providerMinimumStake"] for e in env.events(receipt, "ProviderMinimumStakeUpdated")] == [3 * MOR]
    assert env.fn.getProviderMinimumStake().call() == 3 * MOR


def test_registration_stores_provider_and_moves_stake(env: Env) -> None:
    diamond_before, provider_before = env.balance(env.diamond.address), env.balance(env.provider)
    receipt = env.register_provider()
    created = env.block_time(receipt)
    p = env.provider_record()
    assert (p.endpoint, p.stake, p.createdAt, p.limitPeriodEnd, p.limitPeriodEarned, p.isDeleted) == (
        ENDPOINT, PROVIDER_STAKE, created, created + YEAR, 0, False)
    assert env.balance(env.diamond.address) - diamond_before == PROVIDER_STAKE
    assert provider_before - env.balance(env.provider) == PROVIDER_STAKE
    assert env.fn.getActiveProviders(0, 10).call() == [[env.provider], 1]
    assert env.fn.getIsProviderActive(env.provider).call() is True
    assert [e["provider"] for e in env.events(receipt, "ProviderRegistered")] == [env.provider]


def test_reregistering_with_zero_amount_succeeds(env: Env) -> None:
    env.register_provider()
    env.register_provider(amount=0, endpoint="new:1")
    p = env.provider_record()
    assert (p.stake, p.endpoint) == (PROVIDER_STAKE, "new:1")


def test_top_up_sums_stakes_and_overwrites_endpoint_keeping_times(env: Env) -> None:
    env.register_provider()
    first = env.provider_record()
    env.travel(env.now() + 1000)
    env.register_provider(amount=3 * MOR, endpoint="other:3334")
    p = env.provider_record()
    assert p.stake == PROVIDER_STAKE + 3 * MOR
    assert p.endpoint == "other:3334"
    assert (p.createdAt, p.limitPeriodEnd) == (first.createdAt, first.limitPeriodEnd)


def test_reactivation_after_deregistration_uses_new_stake_only(env: Env) -> None:
    env.register_provider()
    first = env.provider_record()
    env.send(env.fn.providerDeregister(env.provider), env.provider)
    env.register_provider(amount=5 * MOR)
    p = env.provider_record()
    assert (p.stake, p.isDeleted) == (5 * MOR, False)
    assert (p.createdAt, p.limitPeriodEnd) == (first.createdAt, first.limitPeriodEnd)
    assert env.fn.getIsProviderActive(env.provider).call() is True


def test_provider_delegatee_can_register_and_deregister(env: Env) -> None:
    env.delegate(env.provider, env.delegatee, RULE_PROVIDER)
    provider_before, delegatee_before = env.balance(env.provider), env.balance(env.delegatee)
    env.register_provider(sender=env.delegatee)
    assert env.provider_record().stake == PROVIDER_STAKE
    assert provider_before - env.balance(env.provider) == PROVIDER_STAKE  # pulled from the principal
    env.send(env.fn.providerDeregister(env.provider), env.delegatee)
    assert env.provider_record().isDeleted is True
    assert env.balance(env.delegatee) == delegatee_before


def test_register_without_delegation_reverts_insufficient_rights(env: Env) -> None:
    with env.reverts("InsufficientRightsForOperation", env.provider, env.delegatee):
        env.register_provider(sender=env.delegatee)


def test_register_with_wrong_rule_reverts_insufficient_rights(env: Env) -> None:
    env.delegate(env.provider, env.delegatee, RULE_MODEL)
    with env.reverts("InsufficientRightsForOperation", env.provider, env.delegatee):
        env.register_provider(sender=env.delegatee)


def test_register_below_minimum_reverts_stake_too_low(env: Env) -> None:
    with env.reverts("ProviderStakeTooLow", PROVIDER_STAKE - 1, PROVIDER_STAKE):
        env.register_provider(amount=PROVIDER_STAKE - 1)


def test_deregistration_after_limit_period_refunds_full_stake(env: Env) -> None:
    env.register_provider(amount=PROVIDER_STAKE + MOR)
    env.travel(env.provider_record().limitPeriodEnd + 1)
    before = env.balance(env.provider)
    receipt = env.send(env.fn.providerDeregister(env.provider), env.provider)
    assert env.balance(env.provider) - before == PROVIDER_STAKE + MOR
    p = env.provider_record()
    assert (p.stake, p.isDeleted) == (0, True)
    assert env.fn.getActiveProviders(0, 10).call() == [[], 0]
    assert env.fn.getIsProviderActive(env.provider).call() is False
    assert [e["provider"] for e in env.events(receipt, "ProviderDeregistered")] == [env.provider]


def test_deregistration_within_limit_period_refunds_unearned_stake(env: Env) -> None:
    env.register_provider()
    before = env.balance(env.provider)
    env.send(env.fn.providerDeregister(env.provider), env.provider)
    assert env.balance(env.provider) - before == PROVIDER_STAKE  # nothing earned yet


def test_deregistration_with_zero_stake_makes_no_transfer(env: Env) -> None:
    env.send(env.fn.providerSetMinStake(0), env.owner)
    env.register_provider(amount=0)
    before = env.balance(env.provider)
    receipt = env.send(env.fn.providerDeregister(env.provider), env.provider)
    assert env.balance(env.provider) == before
    assert env.events(receipt, "Transfer", env.token) == []
    assert env.provider_record().isDeleted is True


def test_deregister_unknown_provider_reverts_not_found(env: Env) -> None:
    with env.reverts("ProviderNotFound"):
        env.send(env.fn.providerDeregister(env.third), env.third)


def test_deregister_with_active_bid_reverts_has_active_bids(market: Market) -> None:
    env = market.env
    with env.reverts("ProviderHasActiveBids"):
        env.send(env.fn.providerDeregister(env.provider), env.provider)


def test_deregister_twice_reverts_already_deregistered(env: Env) -> None:
    env.register_provider()
    env.send(env.fn.providerDeregister(env.provider), env.provider)
    with env.reverts("ProviderHasAlreadyDeregistered"):
        env.send(env.fn.providerDeregister(env.provider), env.provider)


def test_unknown_provider_is_a_zeroed_struct(env: Env) -> None:
    p = env.provider_record(env.third)
    assert tuple(p) == ("", 0, 0, 0, 0, False)
    assert env.fn.getIsProviderActive(env.third).call() is False


def test_active_providers_use_swap_and_pop_order_and_paginate(env: Env) -> None:
    for who in (env.provider, env.provider2, env.third):
        env.register_provider(who)
    assert env.fn.getActiveProviders(0, 10).call() == [[env.provider, env.provider2, env.third], 3]
    env.send(env.fn.providerDeregister(env.provider), env.provider)
    # EnumerableSet removal moves the last element into the gap.
    assert env.fn.getActiveProviders(0, 10).call() == [[env.third, env.provider2], 2]
    assert env.fn.getActiveProviders(0, 0).call() == [[], 2]
    assert env.fn.getActiveProviders(1, 5).call() == [[env.provider2], 2]
    assert env.fn.getActiveProviders(2, 5).call() == [[], 2]
