"""Deploys the compiled artifacts on a fresh eth-tester chain in the documented order (§10, deploy-plan.json)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eth_tester import EthereumTester, PyEVMBackend
from eth_typing import ChecksumAddress
from eth_utils.crypto import keccak
from web3 import Web3
from web3.providers.eth_tester import EthereumTesterProvider
from web3.types import TxReceipt

from .env import (
    BID_FEE,
    MAX_PRICE,
    MAX_SESSION_DURATION,
    MIN_PRICE,
    MODEL_STAKE,
    NOW0,
    POOLS,
    PROVIDER_STAKE,
    Env,
    Market,
)
from .reference import MOR
from .reverts import ARTIFACTS, load_decoder

FACETS = ("ProviderRegistry", "ModelRegistry", "Marketplace", "SessionRouter", "Delegation")
MAX_UINT = 2**256 - 1


@dataclass
class Deployment:
    """The deployed environment and the two snapshots the fixtures revert to."""

    env: Env
    base_snapshot: Any
    market_snapshot: Any
    market: Market
    # Receipts of the initialiser calls, by function name (their Initialized events are checked in tests).
    init_receipts: dict[str, TxReceipt]


def artifact(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((ARTIFACTS / f"{name}.json").read_text())
    return data


def facet_selectors(plan: dict[str, Any], facet: str) -> list[bytes]:
    """The selectors deploy-plan.json's `cuts` list for `facet` (action 0 = Add)."""
    cut = next(c for c in plan["cuts"] if c["facet"] == facet)
    assert cut["action"] == 0
    return [bytes.fromhex(str(s).removeprefix("0x")) for s in cut["selectors"]]


def _deploy(w3: Web3, name: str, sender: str) -> ChecksumAddress:
    art = artifact(name)
    tx = w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"]).constructor().transact({"from": sender})
    receipt = w3.eth.wait_for_transaction_receipt(tx)
    assert receipt["status"] == 1, f"deploying {name} failed"
    address = receipt["contractAddress"]
    assert address is not None
    return address


def _deploy_contracts(tester: EthereumTester) -> Env:
    """Deploy every artifact in the documented order; nothing is initialised yet."""
    w3 = Web3(EthereumTesterProvider(tester))
    keys: dict[str, bytes] = {str(k.public_key.to_checksum_address()): k.to_bytes()
                              for k in tester.backend.account_keys}
    accounts = [str(a) for a in w3.eth.accounts]
    owner = accounts[0]
    token_addr = _deploy(w3, "MorpheusToken", owner)
    registry_addr = _deploy(w3, "DelegateRegistry", owner)
    multicall_addr = _deploy(w3, "Multicall3", owner)
    facets: dict[str, str] = {name: _deploy(w3, name, owner) for name in FACETS}
    diamond_addr = _deploy(w3, "LumerinDiamond", owner)
    diamond_abi = json.loads((ARTIFACTS / "Diamond.abi.json").read_text())
    return Env(
        w3=w3,
        tester=tester,
        decoder=load_decoder(),
        token=w3.eth.contract(address=token_addr, abi=artifact("MorpheusToken")["abi"]),
        registry=w3.eth.contract(address=registry_addr, abi=artifact("DelegateRegistry")["abi"]),
        multicall=w3.eth.contract(address=multicall_addr, abi=artifact("Multicall3")["abi"]),
        diamond=w3.eth.contract(address=diamond_addr, abi=diamond_abi),
        structs=w3.eth.contract(address=diamond_addr, abi=diamond_abi, decode_tuples=True),
        accounts=accounts,
        keys=keys,
        facets=facets,
    )


def _initialise(env: Env) -> dict[str, TxReceipt]:
    """Cut the facets in and run the initialisers with the §11 parameters; returns the init receipts."""
    d, owner = env.fn, env.owner
    inits: dict[str, TxReceipt] = {"__LumerinDiamond_init": env.send(d.__LumerinDiamond_init(), owner)}
    plan = json.loads((ARTIFACTS / "deploy-plan.json").read_text())
    cut = [(env.facets[name], 0, facet_selectors(plan, name)) for name in FACETS]
    env.send(env.diamond.get_function_by_signature("diamondCut((address,uint8,bytes4[])[])")(cut), owner)
    inits["__Delegation_init"] = env.send(d.__Delegation_init(env.registry.address), owner)
    inits["__ProviderRegistry_init"] = env.send(d.__ProviderRegistry_init(), owner)
    inits["__ModelRegistry_init"] = env.send(d.__ModelRegistry_init(), owner)
    inits["__Marketplace_init"] = env.send(d.__Marketplace_init(env.token.address, MIN_PRICE, MAX_PRICE), owner)
    env.send(d.setMarketplaceBidFee(BID_FEE), owner)
    pools = [p.as_tuple() for p in POOLS]
    inits["__SessionRouter_init"] = env.send(d.__SessionRouter_init(env.funding, MAX_SESSION_DURATION, pools), owner)
    env.send(d.providerSetMinStake(PROVIDER_STAKE), owner)
    env.send(d.modelSetMinStake(MODEL_STAKE), owner)
    return inits


def _fund(env: Env) -> None:
    """Balances and approvals of the §11 fixture: FUNDING and the user approve the diamond; the providers and
    the model owner (OWNER) approve it too so stakes and bid fees can be pulled."""
    for holder, amount in ((env.user, 10_000 * MOR), (env.funding, 10_000 * MOR), (env.provider, 1_000 * MOR),
                           (env.provider2, 1_000 * MOR), (env.third, 1_000 * MOR)):
        env.send(env.token.functions.transfer(holder, amount), env.owner)
    for holder in (env.owner, env.user, env.funding, env.provider, env.provider2, env.third):
        env.send(env.token.functions.approve(env.diamond.address, MAX_UINT), holder)


def deploy_marketplace() -> Deployment:
    tester = EthereumTester(PyEVMBackend())
    # Deterministic time: jump far past the wall clock so every block is exactly parent + 1 second.
    tester.time_travel(NOW0 - 3600)
    env = _deploy_contracts(tester)
    inits = _initialise(env)
    _fund(env)
    tester.time_travel(NOW0)  # the next transaction is mined at payoutStart + 10 days
    base = tester.take_snapshot()

    model_id = env.register_model(base_id=keccak(text="llama-3.2"))
    env.register_provider()
    bid_id = env.post_bid(env.provider, model_id)
    market = Market(env=env, model_id=model_id, bid_id=bid_id)
    return Deployment(env=env, base_snapshot=base, market_snapshot=tester.take_snapshot(), market=market,
                      init_receipts=inits)
