"""A devnet for provider tests: anvil (app.devnet), the protocol (app.chain.deployer), two providers with bids."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from app.chain.client import ChainClient
from app.chain.diamond import Diamond
from app.chain.multicall import Multicall
from app.chain.token import MorToken
from app.chain.tx import TxSender
from app.config.models_config import ModelsConfig, parse_models_config
from app.devnet.accounts import dev_private_keys
from app.devnet.anvil import start_anvil
from app.devnet.chain_node import ChainNode
from app.router.morrpc.receipts import Approval
from app.router.provider.backend_pool import BackendPool
from app.router.provider.controller import ProviderController
from app.router.provider.server import MorRpcServer
from app.router.provider.user_keys import UserKeyStore
from app.wallet.signer import KeySigner
from tests.chain.conftest import FAST_POLICY
from tests.chain.protocol_env import MOR, PRICE, Party, Protocol, deploy_funded_protocol
from tests.support.openai_backend import OpenAIBackendServer

STAKE = 50 * MOR
BASE_MODEL = b"\x42" * 32
OTHER_BASE_MODEL = b"\x43" * 32


def signer(index: int) -> KeySigner:
    return KeySigner(dev_private_keys()[index])


@dataclass
class Devnet:
    """The chain with: provider (dev #1) bidding on ``model_id``; ``other`` (dev #4) bidding on the same model."""

    node: ChainNode
    protocol: Protocol
    other: Party
    second_user: Party
    model_id: bytes
    bid_id: bytes
    other_bid_id: bytes
    _snapshots: list[str] = field(default_factory=list)

    @property
    def client(self) -> ChainClient:
        return self.protocol.client

    async def snapshot(self) -> None:
        self._snapshots.append(await self.client.rpc("evm_snapshot", []))

    async def revert(self) -> None:
        await self.client.rpc("evm_revert", [self._snapshots.pop()])
        for party in (self.protocol.provider, self.protocol.user, self.other, self.second_user):
            party.sender.nonces.invalidate()

    async def open_session(self, user: Party, approval: bytes, approval_sig: bytes, stake: int = STAKE) -> bytes:
        """Open a stake-mode session on chain with a provider's approval; returns the session id."""
        async with user.token.reserve_allowance(self.protocol.addresses.diamond, stake):
            created = await user.diamond.open_session(user.address, stake, False, approval, approval_sig)
        return created.id

    async def open_session_directly(self, user: Party, provider: Party, bid_id: bytes) -> bytes:
        """Open a session with an approval signed straight from the provider's key (no MOR-RPC)."""
        approval = Approval(
            bid_id=bid_id, chain_id=self.client.chain_id, user=user.address, timestamp_ms=await self.now_ms()
        ).encode()
        return await self.open_session(user, approval, provider.signer.sign_personal_hash(approval))

    async def now_ms(self) -> int:
        return await self.client.block_timestamp() * 1000


def _party(client: ChainClient, key_index: int, protocol: Protocol) -> Party:
    s = signer(key_index)
    sender = TxSender(client, s, policy=FAST_POLICY)
    multicall = Multicall(client, protocol.addresses.multicall)
    return Party(
        s,
        sender,
        Diamond(client, protocol.addresses.diamond, sender, multicall),
        MorToken(client, protocol.addresses.token, sender),
    )


async def _register_with_model(protocol: Protocol, party: Party, endpoint: str, base_model: bytes) -> bytes:
    await party.token.approve(protocol.addresses.diamond, 10 * MOR)
    await party.diamond.provider_register(party.address, 5 * MOR, endpoint)
    model = await party.diamond.model_register(party.address, base_model, b"\x07" * 32, 0, MOR, "test-llm", ["llm"])
    return model.id


@asynccontextmanager
async def running_devnet(provider_endpoint: str = "127.0.0.1:1") -> AsyncIterator[Devnet]:
    """A fresh anvil with the protocol deployed, both providers registered and bidding, two funded users."""
    node = await start_anvil(state_path=None)
    try:
        async with ChainClient([node.rpc_url], expected_chain_id=node.chain_id, backoff=0.05) as client:
            protocol = await deploy_funded_protocol(client, [signer(i) for i in range(4)])
            other, second_user = _party(client, 4, protocol), _party(client, 5, protocol)
            await protocol.owner.token.transfer(other.address, 20 * MOR)
            await protocol.owner.token.transfer(second_user.address, 1000 * MOR)
            model_id = await _register_with_model(protocol, protocol.provider, provider_endpoint, BASE_MODEL)
            bid = await protocol.provider.diamond.post_model_bid(protocol.provider.address, model_id, PRICE)
            await other.token.approve(protocol.addresses.diamond, 10 * MOR)
            await other.diamond.provider_register(other.address, 5 * MOR, "127.0.0.1:2")
            other_bid = await other.diamond.post_model_bid(other.address, model_id, PRICE)
            yield Devnet(node, protocol, other, second_user, model_id, bid.id, other_bid.id)
    finally:
        await node.stop()


def models_config(model_id: bytes, backend: OpenAIBackendServer, **extra: Any) -> ModelsConfig:
    entry = {"modelId": "0x" + model_id.hex(), "modelName": "served-model", "apiType": "openai"}
    return parse_models_config({"models": [{**entry, "apiUrl": backend.base_url, **extra}]}, "test models-config")


@asynccontextmanager
async def running_provider(
    devnet: Devnet, models: ModelsConfig, *, user_keys: UserKeyStore | None = None, **server_options: Any
) -> AsyncIterator[tuple[MorRpcServer, ProviderController]]:
    """Our provider (dev #1) serving MOR-RPC on 127.0.0.1:0 over the devnet's real Diamond."""
    pool = BackendPool(models, llm_timeout=10)
    provider = devnet.protocol.provider
    controller = ProviderController(provider.signer, provider.diamond, devnet.client, pool, user_keys=user_keys)
    server = MorRpcServer(controller, "127.0.0.1", 0, **server_options)
    await server.start()
    try:
        yield server, controller
    finally:
        await server.stop()
        await pool.close()
