"""A provider that is a contract with `owner()` (like upstream's ProvidersDelegate subnets), for the §7 signer rule 3.

It is a second LumerinDiamond whose owner cuts in Multicall3's `aggregate`: calls made through it come from the
contract's address, and `owner()` names the key whose signatures the marketplace must accept for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from eth_utils.crypto import keccak

from .deploy import artifact
from .env import BID_PRICE, PROVIDER_STAKE, Env
from .reference import MOR

MAX_UINT = 2**256 - 1


@dataclass
class ContractProvider:
    """A registered contract provider with one bid; `owner` is the EOA behind it."""

    address: str
    owner: str
    bid_id: bytes


def _deploy_proxy(env: Env, owner: str) -> str:
    art = artifact("LumerinDiamond")
    tx = env.w3.eth.contract(abi=art["abi"], bytecode=art["bytecode"]).constructor().transact({"from": owner})
    address = env.w3.eth.wait_for_transaction_receipt(tx)["contractAddress"]
    assert address is not None
    proxy = env.w3.eth.contract(address=address, abi=art["abi"])
    env.send(proxy.functions.__LumerinDiamond_init(), owner)
    aggregate = keccak(text="aggregate((address,bytes)[])")[:4]
    cut = proxy.get_function_by_signature("diamondCut((address,uint8,bytes4[])[])")
    env.send(cut([(env.multicall.address, 0, [aggregate])]), owner)
    return str(address)


def _through(env: Env, proxy: str, owner: str, calls: list[tuple[str, Any]]) -> None:
    """Make `calls` (target, bound contract function) with the proxy as msg.sender."""
    batch = [(target, fn._encode_transaction_data()) for target, fn in calls]
    relay = env.w3.eth.contract(address=env.w3.to_checksum_address(proxy), abi=env.multicall.abi)
    env.send(relay.functions.aggregate(batch), owner)


def register_contract_provider(env: Env, owner: str, model_id: bytes) -> ContractProvider:
    """Deploy the contract provider, stake it, and post its bid on `model_id` at BID_PRICE."""
    proxy = _deploy_proxy(env, owner)
    env.send(env.token.functions.transfer(proxy, 10 * MOR), env.owner)
    diamond = env.diamond.address
    _through(env, proxy, owner, [
        (env.token.address, env.token.functions.approve(diamond, MAX_UINT)),
        (diamond, env.fn.providerRegister(proxy, PROVIDER_STAKE, "subnet:3334")),
        (diamond, env.fn.postModelBid(proxy, model_id, BID_PRICE)),
    ])
    return ContractProvider(address=proxy, owner=owner,
                            bid_id=bytes(env.fn.getBidId(proxy, model_id, 0).call()))
