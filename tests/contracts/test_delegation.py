"""Delegation facet: registry setting and `isRightsDelegated` against the delegate.xyz-style registry (§2, §4.5)."""

from __future__ import annotations

from .env import FULL_RIGHTS, RULE_MODEL, RULE_PROVIDER, RULE_SESSION, Env


def test_init_stores_the_registry(env: Env) -> None:
    assert env.fn.getRegistry().call() == env.registry.address


def test_set_registry_emits_event_and_updates_getter(env: Env) -> None:
    receipt = env.send(env.fn.setRegistry(env.third), env.owner)
    assert [e["registry"] for e in env.events(receipt, "DelegationRegistryUpdated")] == [env.third]
    assert env.fn.getRegistry().call() == env.third


def test_set_registry_by_non_owner_reverts_unauthorized(env: Env) -> None:
    with env.reverts("OwnableUnauthorizedAccount", env.third):
        env.send(env.fn.setRegistry(env.third), env.third)


def test_is_rights_delegated_false_without_delegation(env: Env) -> None:
    assert env.fn.isRightsDelegated(env.delegatee, env.provider, RULE_PROVIDER).call() is False


def test_is_rights_delegated_false_for_a_different_rule(env: Env) -> None:
    env.delegate(env.provider, env.delegatee, RULE_MODEL)
    assert env.fn.isRightsDelegated(env.delegatee, env.provider, RULE_PROVIDER).call() is False


def test_is_rights_delegated_true_for_the_exact_rule(env: Env) -> None:
    env.delegate(env.provider, env.delegatee, RULE_PROVIDER)
    assert env.fn.isRightsDelegated(env.delegatee, env.provider, RULE_PROVIDER).call() is True
    # Direction matters: the delegatee did not delegate to the provider.
    assert env.fn.isRightsDelegated(env.provider, env.delegatee, RULE_PROVIDER).call() is False


def test_is_rights_delegated_true_for_a_full_delegation(env: Env) -> None:
    env.delegate(env.provider, env.delegatee, FULL_RIGHTS)
    for rule in (RULE_PROVIDER, RULE_MODEL, RULE_SESSION):
        assert env.fn.isRightsDelegated(env.delegatee, env.provider, rule).call() is True


def test_revoked_delegation_is_no_longer_delegated(env: Env) -> None:
    env.delegate(env.provider, env.delegatee, RULE_SESSION)
    env.delegate(env.provider, env.delegatee, RULE_SESSION, enable=False)
    assert env.fn.isRightsDelegated(env.delegatee, env.provider, RULE_SESSION).call() is False


def test_registry_checks_delegation_for_the_diamond_contract_only(env: Env) -> None:
    # A delegation for another contract must not grant rights at the diamond.
    env.send(env.registry.functions.delegateContract(env.delegatee, env.token.address, RULE_SESSION, True),
             env.provider)
    assert env.fn.isRightsDelegated(env.delegatee, env.provider, RULE_SESSION).call() is False
    assert env.registry.functions.checkDelegateForContract(
        env.delegatee, env.provider, env.token.address, RULE_SESSION).call() is True
