"""Deploys and initialises the whole protocol (token, registry, Multicall3, facets, Diamond) per the deploy plan."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from app.chain import diamond_abi as abi
from app.chain.abi import Function, split_tuple_type
from app.chain.artifacts import deploy_plan, load_artifact
from app.chain.client import ChainClient
from app.chain.records import Pool
from app.chain.tx import TxSender
from app.errors import ChainError

log = logging.getLogger(__name__)

FACETS = ("ProviderRegistry", "ModelRegistry", "Marketplace", "SessionRouter", "Delegation")


@dataclass(frozen=True)
class ProtocolParams:
    """Deploy-time parameters (wei, seconds). No defaults on purpose: the caller states its policy."""

    provider_min_stake: int
    model_min_stake: int
    bid_fee: int
    min_price_per_second: int
    max_price_per_second: int
    funding_account: str
    max_session_duration: int
    pools: tuple[Pool, ...]


@dataclass(frozen=True)
class ProtocolAddresses:
    """Where everything landed, plus the block of the last deploy transaction."""

    diamond: str
    token: str
    multicall: str
    delegate_registry: str
    facets: dict[str, str] = field(default_factory=dict)
    owner: str = ""
    deploy_block: int = 0

    def to_json(self) -> dict[str, Any]:
        return {
            "diamond": self.diamond,
            "token": self.token,
            "multicall": self.multicall,
            "delegateRegistry": self.delegate_registry,
            "facets": dict(self.facets),
            "owner": self.owner,
            "deployBlock": self.deploy_block,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ProtocolAddresses:
        return cls(
            diamond=data["diamond"],
            token=data["token"],
            multicall=data["multicall"],
            delegate_registry=data["delegateRegistry"],
            facets=dict(data.get("facets", {})),
            owner=data.get("owner", ""),
            deploy_block=int(data.get("deployBlock", 0)),
        )


def function_from_signature(signature: str) -> Function:
    """``"f(address,(uint256,uint128)[])"`` → a Function descriptor."""
    name, _, rest = signature.partition("(")
    types = split_tuple_type("(" + rest) if rest != ")" else []
    return Function(name, tuple(types))


def _bytecode(name: str) -> bytes:
    code = str(load_artifact(name)["bytecode"])
    return bytes.fromhex(code[2:] if code.startswith("0x") else code)


async def deploy_protocol(client: ChainClient, sender: TxSender, params: ProtocolParams) -> ProtocolAddresses:
    """Deploy every contract of the plan, cut the facets into the Diamond and run the initialisers in order.

    ``sender`` becomes the Diamond owner. Independent deployments are sent concurrently (the nonce manager keeps
    them gap-free), the cut and initialisers one after another.
    """
    plan = deploy_plan()
    order: list[str] = list(plan["deployOrder"])
    receipts = await asyncio.gather(*(sender.deploy(_bytecode(n), f"deploying {n}") for n in order))
    addresses = {name: str(r.contract_address) for name, r in zip(order, receipts, strict=True)}
    diamond = addresses["LumerinDiamond"]
    log.info("deployed %d contracts; diamond at %s", len(addresses), diamond)

    init = function_from_signature(plan.get("diamondInit", "__LumerinDiamond_init()"))
    await sender.send(diamond, init.encode(), purpose="initialising the Diamond")

    cuts = [
        (addresses[cut["facet"]], int(cut.get("action", 0)), [bytes.fromhex(s[2:]) for s in cut["selectors"]])
        for cut in plan["cuts"]
    ]
    await sender.send(diamond, abi.DIAMOND_CUT.encode(cuts), purpose="registering the facets in the Diamond")

    values = _init_values(addresses, params)
    last = None
    for call in plan["initCalls"]:
        fn = function_from_signature(call["signature"])
        try:
            args = [values[a] for a in call["args"]]
        except KeyError as e:
            raise ChainError(f"The deploy plan needs a value for {e} that deploy_protocol does not know.") from e
        last = await sender.send(diamond, fn.encode(*args), purpose=f"calling {fn.name}")

    return ProtocolAddresses(
        diamond=diamond,
        token=addresses["MorpheusToken"],
        multicall=addresses["Multicall3"],
        delegate_registry=addresses["DelegateRegistry"],
        facets={name: addresses[name] for name in FACETS if name in addresses},
        owner=sender.address,
        deploy_block=last.block_number if last else max(r.block_number for r in receipts),
    )


def _init_values(addresses: dict[str, str], params: ProtocolParams) -> dict[str, Any]:
    """Symbolic deploy-plan arguments → values: contract names map to their addresses."""
    return {
        **addresses,
        "marketplaceMinBidPricePerSecond": params.min_price_per_second,
        "marketplaceMaxBidPricePerSecond": params.max_price_per_second,
        "marketplaceBidFee": params.bid_fee,
        "fundingAccount": params.funding_account,
        "maxSessionDuration": params.max_session_duration,
        "pools": [p.as_tuple() for p in params.pools],
        "providerMinStake": params.provider_min_stake,
        "modelMinStake": params.model_min_stake,
    }
