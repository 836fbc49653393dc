"""Diamond proxy: initialisation, ownership, cuts, loupe, selector registration (§1, §5.3), token and Multicall3."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_utils.abi import function_signature_to_4byte_selector
from eth_utils.crypto import keccak

from .deploy import Deployment
from .env import (
    BID_FEE,
    MAX_PRICE,
    MAX_SESSION_DURATION,
    MIN_PRICE,
    POOLS,
    RULE_MARKETPLACE,
    RULE_MODEL,
    RULE_PROVIDER,
    RULE_SESSION,
    Env,
    Market,
)
from .reference import MOR
from .reverts import ARTIFACTS

ZERO = "0x0000000000000000000000000000000000000000"

# §5.3: selector → (function name, facet that must serve it).
SPEC_SELECTORS = {
    "a85a1782": ("openSession", "SessionRouter"),
    "42f77a31": ("closeSession", "SessionRouter"),
    "f2e96e8e": ("claimForProvider", "SessionRouter"),
    "a98a7c6b": ("withdrawUserStakes", "SessionRouter"),
    "ede96bb1": ("postModelBid", "Marketplace"),
    "8913dcaa": ("deleteModelBid", "Marketplace"),
    "365700cb": ("providerRegister", "ProviderRegistry"),
    "21dea0a0": ("modelRegister", "ModelRegistry"),
    "39b240bd": ("getSession", "SessionRouter"),
    "40005965": ("getTodaysBudget", "SessionRouter"),
    "6d0cfe5a": ("totalMORSupply", "SessionRouter"),
    "1b26c116": ("getProviderModelStats", "SessionRouter"),
    "f8ba944b": ("__SessionRouter_init", "SessionRouter"),
}


def _abi_selectors(env: Env, name: str) -> set[str]:
    out = set()
    abi: list[dict[str, Any]] = json.loads((ARTIFACTS / "Diamond.abi.json").read_text())
    for item in abi:
        if item.get("type") == "function" and item["name"] == name:
            types = ",".join(_type(p) for p in item["inputs"])
            out.add(function_signature_to_4byte_selector(f"{name}({types})").hex())
    return out


def _type(param: Any) -> str:
    kind = str(param["type"])
    if kind.startswith("tuple"):
        return "(" + ",".join(_type(c) for c in param["components"]) + ")" + kind[5:]
    return kind


def test_owner_after_init_is_deployer(env: Env) -> None:
    assert env.fn.owner().call() == env.owner


def test_second_diamond_init_reverts_already_initialized(env: Env) -> None:
    with env.reverts("Error", "Initializable: contract is already initialized"):
        env.send(env.fn.__LumerinDiamond_init(), env.owner)


@pytest.mark.parametrize("init", [
    "__Delegation_init", "__ProviderRegistry_init", "__ModelRegistry_init", "__Marketplace_init",
    "__SessionRouter_init",
])
def test_second_facet_init_reverts_already_initialized(env: Env, init: str) -> None:
    args: dict[str, tuple[Any, ...]] = {
        "__Delegation_init": (env.registry.address,),
        "__ProviderRegistry_init": (),
        "__ModelRegistry_init": (),
        "__Marketplace_init": (env.token.address, MIN_PRICE, MAX_PRICE),
        "__SessionRouter_init": (env.funding, MAX_SESSION_DURATION, [p.as_tuple() for p in POOLS]),
    }
    with env.reverts("Error", "Initializable: contract is already initialized"):
        env.send(getattr(env.fn, init)(*args[init]), env.owner)


def test_non_owner_diamond_cut_reverts_unauthorized(env: Env) -> None:
    cut = env.diamond.get_function_by_signature("diamondCut((address,uint8,bytes4[])[])")
    selector = keccak(text="somethingNew()")[:4]
    with env.reverts("OwnableUnauthorizedAccount", env.third):
        env.send(cut([(env.facets["Delegation"], 0, [selector])]), env.third)


def test_owner_cut_adds_and_removes_a_selector(env: Env) -> None:
    cut = env.diamond.get_function_by_signature("diamondCut((address,uint8,bytes4[])[])")
    selector = keccak(text="somethingNew()")[:4]
    receipt = env.send(cut([(env.facets["Delegation"], 0, [selector])]), env.owner)
    assert len(env.events(receipt, "DiamondCut")) == 1
    assert env.fn.facetAddress(selector).call() == env.facets["Delegation"]
    env.send(cut([(env.facets["Delegation"], 2, [selector])]), env.owner)
    assert env.fn.facetAddress(selector).call() == ZERO


def test_loupe_lists_the_five_facets_with_their_selectors(env: Env) -> None:
    facets = {address: list(selectors) for address, selectors in env.fn.facets().call()}
    assert set(facets) == set(env.facets.values())
    assert set(env.fn.facetAddresses().call()) == set(env.facets.values())
    for address, selectors in facets.items():
        assert selectors, f"facet {address} has no selectors"
        assert list(env.fn.facetFunctionSelectors(address).call()) == selectors
        assert env.fn.facetAddress(selectors[-1]).call() == address


@pytest.mark.parametrize("selector", sorted(SPEC_SELECTORS))
def test_spec_selector_is_in_abi_and_registered_on_its_facet(env: Env, selector: str) -> None:
    name, facet = SPEC_SELECTORS[selector]
    assert selector in _abi_selectors(env, name)
    assert env.fn.facetAddress(bytes.fromhex(selector)).call() == env.facets[facet]


@pytest.mark.parametrize("signature", [
    "MIN_SESSION_DURATION()", "SIGNATURE_TTL()", "COMPUTE_POOL_INDEX()", "somethingUnknown(uint256)",
])
def test_unregistered_selector_reverts_not_registered(env: Env, signature: str) -> None:
    with env.reverts("Error", "Diamond: selector is not registered"):
        env.w3.eth.call({"to": env.diamond.address, "data": keccak(text=signature)[:4]})


def test_delegation_rule_getters_are_registered_and_match_keccak(env: Env) -> None:
    assert env.fn.DELEGATION_RULES_PROVIDER().call() == RULE_PROVIDER
    assert env.fn.DELEGATION_RULES_MODEL().call() == RULE_MODEL
    assert env.fn.DELEGATION_RULES_MARKETPLACE().call() == RULE_MARKETPLACE
    assert env.fn.DELEGATION_RULES_SESSION().call() == RULE_SESSION
    assert RULE_PROVIDER.hex() == "95f03c9db87c84e0b1043857b43822e60143b5fd222cbae6a58608238277e43b"
    assert RULE_SESSION.hex() == "bb0b3346f3a62a3cf205ec3a488d79de48762f0ab35cbf72aaf290fde72d79f5"


def test_transfer_ownership_moves_owner_only_functions(env: Env) -> None:
    receipt = env.send(env.fn.transferOwnership(env.third), env.owner)
    moved = env.events(receipt, "OwnershipTransferred")
    assert [list(e.values()) for e in moved] == [[env.owner, env.third]]
    assert env.fn.owner().call() == env.third
    with env.reverts("OwnableUnauthorizedAccount", env.owner):
        env.send(env.fn.setMarketplaceBidFee(1), env.owner)
    env.send(env.fn.setMarketplaceBidFee(1), env.third)
    assert env.fn.getBidFee().call() == 1


def test_bid_fee_is_set_by_deploy(env: Env) -> None:
    assert env.fn.getBidFee().call() == BID_FEE


def test_token_is_mor_with_18_decimals_and_42m_supply(env: Env) -> None:
    t = env.token.functions
    assert (t.name().call(), t.symbol().call(), t.decimals().call()) == ("MOR", "MOR", 18)
    assert t.totalSupply().call() == 42_000_000 * MOR


def test_token_increase_allowance_adds_to_allowance(env: Env) -> None:
    env.send(env.token.functions.approve(env.third, 5), env.provider)
    env.send(env.token.functions.increaseAllowance(env.third, 7), env.provider)
    assert env.token.functions.allowance(env.provider, env.third).call() == 12


def test_multicall_aggregate_batches_diamond_views(market: Market) -> None:
    env = market.env
    calls = [
        (env.diamond.address, env.fn.getProvider(env.provider)._encode_transaction_data()),
        (env.diamond.address, env.fn.getBid(market.bid_id)._encode_transaction_data()),
        (env.diamond.address, env.fn.getModel(market.model_id)._encode_transaction_data()),
    ]
    block, results = env.multicall.functions.aggregate(calls).call()
    assert block == env.w3.eth.block_number
    assert len(results) == 3
    direct = env.w3.eth.call({"to": env.diamond.address, "data": calls[1][1]})
    assert results[1] == direct
    assert env.multicall.functions.getChainId().call() == env.chain_id


def test_renounce_ownership_leaves_no_owner(env: Env) -> None:
    env.send(env.fn.renounceOwnership(), env.owner)
    assert env.fn.owner().call() == ZERO
    with env.reverts("OwnableUnauthorizedAccount", env.owner):
        env.send(env.fn.setMarketplaceBidFee(1), env.owner)


def test_multicall_aggregate3_reports_allowed_failures(market: Market) -> None:
    env = market.env
    ok = env.fn.getBidFee()._encode_transaction_data()
    failing = "0x" + keccak(text="MIN_SESSION_DURATION()")[:4].hex()
    results = env.multicall.functions.aggregate3([
        (env.diamond.address, False, ok), (env.diamond.address, True, failing)]).call()
    assert results[0][0] is True
    assert int.from_bytes(results[0][1], "big") == BID_FEE
    assert results[1][0] is False


def test_each_facet_initialiser_emits_initialized_with_its_own_slot(deployment: Deployment) -> None:
    env = deployment.env
    slots = []
    for name in ("__Delegation_init", "__ProviderRegistry_init", "__ModelRegistry_init", "__Marketplace_init",
                 "__SessionRouter_init"):
        events = env.events(deployment.init_receipts[name], "Initialized")
        assert len(events) == 1, name
        slots.append(bytes(next(iter(events[0].values()))))
    assert len(set(slots)) == 5


def test_three_argument_diamond_cut_without_init_adds_a_selector(env: Env) -> None:
    cut = env.diamond.get_function_by_signature("diamondCut((address,uint8,bytes4[])[],address,bytes)")
    selector = keccak(text="anotherNew()")[:4]
    env.send(cut([(env.facets["Marketplace"], 0, [selector])], ZERO, b""), env.owner)
    assert env.fn.facetAddress(selector).call() == env.facets["Marketplace"]
