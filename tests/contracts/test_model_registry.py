"""ModelRegistry facet: minimum stake, registration, re-registration, deregistration and the id lists (§4.2)."""

from __future__ import annotations

from eth_utils.crypto import keccak

from .env import MODEL_STAKE, RULE_MODEL, RULE_PROVIDER, Env, Market
from .reference import MOR

BASE = keccak(text="base-model")
IPFS = keccak(text="ipfs://ipfsaddress")


def test_model_set_min_stake_is_owner_only(env: Env) -> None:
    with env.reverts("OwnableUnauthorizedAccount", env.third):
        env.send(env.fn.modelSetMinStake(1), env.third)
    receipt = env.send(env.fn.modelSetMinStake(7 * MOR), env.owner)
    assert [e["modelMinimumStake"] for e in env.events(receipt, "ModelMinimumStakeUpdated")] == [7 * MOR]
    assert env.fn.getModelMinimumStake().call() == 7 * MOR


def test_model_id_is_keccak_of_owner_and_base_id(env: Env) -> None:
    expected = keccak(bytes.fromhex(env.owner[2:]) + BASE)
    assert env.fn.getModelId(env.owner, BASE).call() == expected


def test_get_model_ids_lists_every_registered_id(env: Env) -> None:
    ids = [env.register_model(base_id=keccak(text=f"m{i}")) for i in range(3)]
    env.send(env.fn.modelDeregister(ids[0]), env.owner)
    assert env.fn.getModelIds(0, 10).call() == [ids, 3]  # deleted models stay listed
    assert env.fn.getModelIds(1, 1).call() == [ids[1:2], 3]


def test_registration_stores_all_fields_and_lists_the_model(env: Env) -> None:
    before = env.balance(env.diamond.address)
    receipt = env.send(env.fn.modelRegister(env.owner, BASE, IPFS, 100, MODEL_STAKE, "Llama 2.0",
                                            ["llama", "animal"]), env.owner)
    model_id = env.fn.getModelId(env.owner, BASE).call()
    m = env.model(model_id)
    assert (m.ipfsCID, m.fee, m.stake, m.owner, m.name, list(m.tags), m.createdAt, m.isDeleted) == (
        IPFS, 100, MODEL_STAKE, env.owner, "Llama 2.0", ["llama", "animal"], env.block_time(receipt), False)
    assert env.fn.getIsModelActive(model_id).call() is True
    assert env.fn.getActiveModelIds(0, 10).call() == [[model_id], 1]
    assert env.balance(env.diamond.address) - before == MODEL_STAKE
    assert [(e["owner"], e["modelId"]) for e in env.events(receipt, "ModelRegisteredUpdated")] == [
        (env.owner, model_id)]


def test_model_delegatee_can_register_and_deregister(env: Env) -> None:
    env.delegate(env.provider, env.delegatee, RULE_MODEL)
    before = env.balance(env.provider)
    model_id = env.register_model(owner=env.provider, sender=env.delegatee)
    m = env.model(model_id)
    assert (m.owner, m.stake) == (env.provider, MODEL_STAKE)
    assert before - env.balance(env.provider) == MODEL_STAKE
    env.send(env.fn.modelDeregister(model_id), env.delegatee)
    assert env.fn.getIsModelActive(model_id).call() is False
    assert env.balance(env.provider) == before


def test_reregistration_overwrites_fields_and_adds_stake_keeping_created_at(env: Env) -> None:
    model_id = env.register_model(base_id=BASE)
    created = env.model(model_id).createdAt
    env.travel(env.now() + 500)
    env.register_model(base_id=BASE, amount=5 * MOR, ipfs=IPFS, fee=7, name="Llama 3", tags=("new",))
    m = env.model(model_id)
    assert (m.ipfsCID, m.fee, m.name, list(m.tags)) == (IPFS, 7, "Llama 3", ["new"])
    assert (m.stake, m.createdAt) == (MODEL_STAKE + 5 * MOR, created)
    assert env.fn.getModelIds(0, 10).call() == [[model_id], 1]  # listed once


def test_reactivation_after_deregistration_uses_new_stake_only(env: Env) -> None:
    model_id = env.register_model(base_id=BASE)
    created = env.model(model_id).createdAt
    env.send(env.fn.modelDeregister(model_id), env.owner)
    env.register_model(base_id=BASE, amount=MODEL_STAKE + 1)
    m = env.model(model_id)
    assert (m.stake, m.isDeleted, m.createdAt) == (MODEL_STAKE + 1, False, created)
    assert env.fn.getActiveModelIds(0, 10).call() == [[model_id], 1]


def test_register_below_minimum_reverts_stake_too_low(env: Env) -> None:
    with env.reverts("ModelStakeTooLow", MODEL_STAKE - 1, MODEL_STAKE):
        env.register_model(amount=MODEL_STAKE - 1)


def test_register_without_delegation_reverts_insufficient_rights(env: Env) -> None:
    with env.reverts("InsufficientRightsForOperation", env.owner, env.delegatee):
        env.register_model(sender=env.delegatee)


def test_register_with_wrong_rule_reverts_insufficient_rights(env: Env) -> None:
    env.delegate(env.owner, env.delegatee, RULE_PROVIDER)
    with env.reverts("InsufficientRightsForOperation", env.owner, env.delegatee):
        env.register_model(sender=env.delegatee)


def test_deregistration_refunds_whole_stake_and_removes_from_active_ids(env: Env) -> None:
    keep = env.register_model(base_id=keccak(text="keep"))
    model_id = env.register_model(base_id=BASE, amount=MODEL_STAKE + 3 * MOR)
    before = env.balance(env.owner)
    receipt = env.send(env.fn.modelDeregister(model_id), env.owner)
    assert env.balance(env.owner) - before == MODEL_STAKE + 3 * MOR
    m = env.model(model_id)
    assert (m.stake, m.isDeleted) == (0, True)
    assert env.fn.getActiveModelIds(0, 10).call() == [[keep], 1]
    assert [(e["owner"], e["modelId"]) for e in env.events(receipt, "ModelDeregistered")] == [
        (env.owner, model_id)]


def test_deregister_by_stranger_reverts_insufficient_rights(env: Env) -> None:
    model_id = env.register_model()
    with env.reverts("InsufficientRightsForOperation", env.owner, env.third):
        env.send(env.fn.modelDeregister(model_id), env.third)


def test_deregister_unknown_model_reverts_insufficient_rights(env: Env) -> None:
    zero = "0x0000000000000000000000000000000000000000"
    with env.reverts("InsufficientRightsForOperation", zero, env.third):
        env.send(env.fn.modelDeregister(keccak(text="nope")), env.third)


def test_deregister_with_active_bid_reverts_has_active_bids(market: Market) -> None:
    env = market.env
    with env.reverts("ModelHasActiveBids"):
        env.send(env.fn.modelDeregister(market.model_id), env.owner)


def test_deregister_twice_reverts_already_deregistered(env: Env) -> None:
    model_id = env.register_model()
    env.send(env.fn.modelDeregister(model_id), env.owner)
    with env.reverts("ModelHasAlreadyDeregistered"):
        env.send(env.fn.modelDeregister(model_id), env.owner)


def test_active_model_ids_use_swap_and_pop_order(env: Env) -> None:
    a, b, c = (env.register_model(base_id=keccak(text=n)) for n in "abc")
    env.send(env.fn.modelDeregister(a), env.owner)
    assert env.fn.getActiveModelIds(0, 10).call() == [[c, b], 2]
    assert env.fn.getActiveModelIds(0, 0).call() == [[], 2]
