"""The demo marketplace on chain: funds, provider registrations, the one demo model and its bids, reused when present.

Every ``ensure_*`` reads the chain first and only sends what is missing, so a devnet whose state persisted
(anvil ``--state``) gets no new transactions on the next launch except an endpoint update when a port changed.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from eth_utils.crypto import keccak

from app.chain.client import ChainClient
from app.chain.diamond import Diamond
from app.chain.multicall import Multicall
from app.chain.token import MorToken
from app.chain.tx import TxSender
from app.devnet.deployment import Deployment
from app.devnet.faucet import DEFAULT_ETH_WEI, Faucet
from app.devnet.local_model import MODEL_NAME
from app.devnet.setup import MOR, dev_signer
from app.wallet.signer import KeySigner

__all__ = [
    "DEMO_BASE_MODEL_ID",
    "DEMO_MODEL_NAME",
    "DEMO_TAGS",
    "DemoAccount",
    "Registration",
    "demo_account",
    "ensure_bid",
    "ensure_funds",
    "ensure_model",
    "ensure_provider",
]

log = logging.getLogger(__name__)

DEMO_MODEL_NAME = MODEL_NAME
DEMO_TAGS = ("llm", "demo", "local")
DEMO_BASE_MODEL_ID = keccak(text=f"morpheus-devnet-demo/{DEMO_MODEL_NAME}")
DEMO_MODEL_CID = keccak(text=f"morpheus-devnet-demo/{DEMO_MODEL_NAME}/cid")  # no IPFS on a devnet: a stable stand-in
_MIN_ETH_WEI = 10**18  # below this a dev account gets the faucet's ETH (anvil's dev accounts start with 10000)

Registration = Literal["registered", "endpoint updated", "reused"]


@dataclass(frozen=True)
class DemoAccount:
    """One dev account with its own sender, Diamond and MOR token."""

    signer: KeySigner
    diamond: Diamond
    token: MorToken

    @property
    def address(self) -> str:
        return self.signer.address


def demo_account(client: ChainClient, deployment: Deployment, index: int) -> DemoAccount:
    """Dev account ``index`` wired to the devnet's Diamond and MOR token."""
    signer = dev_signer(index)
    sender = TxSender(client, signer)
    multicall = Multicall(client, deployment.multicall3)
    return DemoAccount(signer, Diamond(client, deployment.diamond, sender, multicall),
                       MorToken(client, deployment.mor, sender))


async def ensure_funds(faucet: Faucet, client: ChainClient, address: str, mor_wei: int) -> bool:
    """Top ``address`` up from the faucet to at least ``mor_wei`` MOR (and some ETH); True if anything was sent."""
    mor_short = max(0, mor_wei - await faucet.mor_balance(address))
    eth = 0 if await client.get_balance(address) >= _MIN_ETH_WEI else DEFAULT_ETH_WEI
    if not mor_short and not eth:
        return False
    await faucet.fund(address, eth_wei=eth, mor_wei=mor_short)
    return True


async def ensure_provider(account: DemoAccount, stake_wei: int, endpoint: str) -> Registration:
    """Register the provider with ``stake_wei``; when registered already, only move its endpoint if it changed."""
    provider = await account.diamond.get_provider(account.address)
    if provider.is_active:
        if provider.endpoint == endpoint:
            return "reused"
        await account.diamond.provider_register(account.address, 0, endpoint)
        log.info("demo provider %s moved from %s to %s", account.address, provider.endpoint, endpoint)
        return "endpoint updated"
    amount = max(0, stake_wei - provider.stake)  # a deregistered provider may still hold part of its stake
    if amount:
        await account.token.ensure_allowance(account.diamond.address, amount)
    await account.diamond.provider_register(account.address, amount, endpoint)
    return "registered"


async def ensure_model(owner: DemoAccount) -> tuple[bytes, bool]:
    """The demo model's id, registered by ``owner`` with the minimum model stake if missing; (id, registered now)."""
    diamond = owner.diamond
    model_id = await diamond.get_model_id(owner.address, DEMO_BASE_MODEL_ID)
    if (await diamond.get_model(model_id)).is_active:
        return model_id, False
    stake = await diamond.model_minimum_stake()
    await owner.token.ensure_allowance(diamond.address, stake)
    created = await diamond.model_register(owner.address, DEMO_BASE_MODEL_ID, DEMO_MODEL_CID, 0, stake,
                                           DEMO_MODEL_NAME, list(DEMO_TAGS))
    return created.id, True


async def ensure_bid(account: DemoAccount, model_id: bytes, price_per_second: int) -> tuple[bytes, bool]:
    """The provider's active bid on ``model_id`` (whatever its price), else a new one; (bid id, posted now)."""
    diamond = account.diamond
    page = await diamond.provider_active_bids(account.address, 0, 100)
    for bid in await diamond.get_bids(list(page.items)) if page.items else []:
        if bid.model_id == model_id and bid.is_active:
            return bid.id, False
    await account.token.ensure_allowance(diamond.address, await diamond.bid_fee())
    return (await diamond.post_model_bid(account.address, model_id, price_per_second)).id, True


def provider_mor_needed(stake_wei: int, *, model_owner: bool) -> int:
    """MOR a demo provider needs for its stake, one bid fee and (for the model owner) the model stake, with room."""
    return stake_wei + 5 * MOR + (MOR if model_owner else 0)
