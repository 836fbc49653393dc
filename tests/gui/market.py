"""A provider, a model and a bid on the devnet, and sessions opened/closed with real signatures, for GUI tests."""

from __future__ import annotations

import os
from dataclasses import dataclass

from app.bootstrap.services import Services
from app.chain.diamond import Diamond
from app.chain.messages import encode_approval, encode_receipt
from app.chain.token import MorToken
from app.chain.tx import TxSender
from app.wallet.signer import KeySigner

MOR = 10**18
PRICE = 10**14  # wei per second
SESSION_STAKE = 50 * MOR


@dataclass
class Party:
    """One account with its own sender: a provider or a user other than the app's wallet."""

    signer: KeySigner
    diamond: Diamond
    token: MorToken

    @property
    def address(self) -> str:
        return self.signer.address


async def new_party(services: Services) -> Party:
    """A fresh throwaway account funded by the devnet faucet."""
    assert services.chain is not None and services.network is not None and services.devnet is not None
    signer = KeySigner(os.urandom(32))
    await services.devnet.faucet.fund(signer.address)
    sender = TxSender(services.chain, signer)
    diamond = Diamond(services.chain, services.network.diamond, sender)
    return Party(signer, diamond, MorToken(services.chain, services.network.mor, sender))


async def list_bid(owner: Party) -> bytes:
    """Register ``owner`` as provider with a model and a bid at PRICE; returns the bid id."""
    await owner.token.approve(owner.diamond.address, 10 * MOR)
    await owner.diamond.provider_register(owner.address, 5 * MOR, "127.0.0.1:3333")
    model = await owner.diamond.model_register(owner.address, os.urandom(32), b"\x07" * 32, 0, MOR, "m", ["llm"])
    return (await owner.diamond.post_model_bid(owner.address, model.id, PRICE)).id


async def open_session(user_diamond: Diamond, user: str, provider: KeySigner, bid_id: bytes) -> bytes:
    """Open a stake-mode session of SESSION_STAKE (the allowance must already cover it); returns its id."""
    client = user_diamond.client
    approval = encode_approval(bid_id, client.chain_id, user, await client.block_timestamp())
    created = await user_diamond.open_session(user, SESSION_STAKE, False, approval,
                                              provider.sign_personal_hash(approval))  # fmt: skip
    return created.id


async def close_session(user_diamond: Diamond, provider: KeySigner, session_id: bytes) -> None:
    """Close a session with a receipt signed by the provider (no dispute)."""
    client = user_diamond.client
    receipt = encode_receipt(session_id, client.chain_id, await client.block_timestamp(), 1000, 100)
    await user_diamond.close_session(receipt, provider.sign_personal_hash(receipt))


async def travel(services: Services, seconds: int) -> None:
    """Move the devnet's clock forward and mine a block."""
    assert services.chain is not None
    await services.chain.rpc("evm_increaseTime", [seconds])
    await services.chain.rpc("evm_mine", [])
