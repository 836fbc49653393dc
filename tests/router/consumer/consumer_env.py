"""A devnet marketplace for consumer tests: anvil, the protocol, two real provider nodes with bids, one consumer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from app.chain.client import ChainClient
from app.chain.diamond import Diamond
from app.chain.multicall import Multicall
from app.chain.token import MorToken
from app.chain.tx import TxSender
from app.config.models_config import parse_models_config
from app.devnet.accounts import dev_private_keys
from app.devnet.anvil import start_anvil
from app.events import EventBus
from app.router.consumer.service import ConsumerService, ConsumerSettings
from app.router.provider.backend_pool import BackendPool
from app.router.provider.controller import ProviderController
from app.router.provider.server import MorRpcServer
from app.storage.store import AsyncStorage
from app.wallet.signer import KeySigner
from tests.chain.conftest import FAST_POLICY
from tests.chain.protocol_env import MOR, Party, Protocol, deploy_funded_protocol
from tests.support.openai_backend import OpenAIBackendServer

BASE_MODEL = b"\x51" * 32
CHEAP = 10**14  # wei/s: provider A's price, so A ranks first
DEAR = 2 * 10**14  # provider B's price


def party(client: ChainClient, index: int, protocol: Protocol) -> Party:
    """A dev account (by anvil index) with its own sender, Diamond and MOR token."""
    signer = KeySigner(dev_private_keys()[index])
    sender = TxSender(client, signer, policy=FAST_POLICY)
    multicall = Multicall(client, protocol.addresses.multicall)
    return Party(signer, sender, Diamond(client, protocol.addresses.diamond, sender, multicall),
                 MorToken(client, protocol.addresses.token, sender))


@dataclass
class ProviderNodeUnderTest:
    """A real provider node (controller + MOR-RPC server) with its own test backend."""

    party: Party
    backend: OpenAIBackendServer
    server: MorRpcServer
    pool: BackendPool
    bid_id: bytes = b""

    @property
    def address(self) -> str:
        return self.party.address

    @property
    def endpoint(self) -> str:
        host, port = self.server.address
        return f"{host}:{port}"

    async def kill(self) -> None:
        """Stop serving: open connections are cut and new ones refused."""
        await self.server.stop()


@dataclass
class Market:
    """Chain + two providers bidding on ``model_id`` (A cheaper, so ranked first) + the consumer service."""

    client: ChainClient
    protocol: Protocol
    model_id: bytes
    a: ProviderNodeUnderTest
    b: ProviderNodeUnderTest
    user: Party
    storage: AsyncStorage
    consumer: ConsumerService
    bus: EventBus
    events: list[object] = field(default_factory=list)

    @property
    def model_hex(self) -> str:
        return "0x" + self.model_id.hex()


async def _start_provider(stack: AsyncExitStack, client: ChainClient, p: Party, backend: OpenAIBackendServer,
                          model_id: bytes) -> ProviderNodeUnderTest:
    entry = {"modelId": "0x" + model_id.hex(), "modelName": "served-model", "apiType": "openai",
             "apiUrl": backend.base_url}
    pool = BackendPool(parse_models_config({"models": [entry]}, "test models-config"), llm_timeout=10)
    stack.push_async_callback(pool.close)
    server = MorRpcServer(ProviderController(p.signer, p.diamond, client, pool), "127.0.0.1", 0)
    await server.start()
    stack.push_async_callback(server.stop)
    return ProviderNodeUnderTest(p, backend, server, pool)


@asynccontextmanager
async def running_market(data_dir: Path, settings: ConsumerSettings | None = None) -> AsyncIterator[Market]:
    """Everything up, on a fresh anvil; torn down in reverse order."""
    async with AsyncExitStack() as stack:
        node = await start_anvil(state_path=None)
        stack.push_async_callback(node.stop)
        client = await stack.enter_async_context(
            ChainClient([node.rpc_url], expected_chain_id=node.chain_id, backoff=0.05))
        protocol = await deploy_funded_protocol(client, [KeySigner(k) for k in dev_private_keys()[:4]])
        a_party, b_party = protocol.provider, party(client, 4, protocol)
        await protocol.owner.token.transfer(b_party.address, 20 * MOR)
        backend_a = await stack.enter_async_context(OpenAIBackendServer())
        backend_b = await stack.enter_async_context(OpenAIBackendServer())
        model_id = await a_party.diamond.get_model_id(a_party.address, BASE_MODEL)
        a = await _start_provider(stack, client, a_party, backend_a, model_id)
        b = await _start_provider(stack, client, b_party, backend_b, model_id)
        for node_ in (a, b):
            await node_.party.token.approve(protocol.addresses.diamond, 10 * MOR)
            await node_.party.diamond.provider_register(node_.address, 5 * MOR, node_.endpoint)
        await a_party.diamond.model_register(a_party.address, BASE_MODEL, b"\x07" * 32, 0, MOR, "test-llm", ["llm"])
        for node_, price in ((a, CHEAP), (b, DEAR)):
            node_.bid_id = (await node_.party.diamond.post_model_bid(node_.address, model_id, price)).id
        storage = await AsyncStorage.open(data_dir / "consumer.sqlite3")
        stack.push_async_callback(storage.close)
        bus = EventBus()
        user = protocol.user
        consumer = ConsumerService(user.signer, user.diamond, user.token, client, storage, bus=bus,
                                   settings=settings or ConsumerSettings(first_message_timeout_s=5.0))
        stack.push_async_callback(consumer.stop)
        market = Market(client, protocol, model_id, a, b, user, storage, consumer, bus)
        for kind in _event_types():
            bus.subscribe(kind, market.events.append)
        yield market


def _event_types() -> list[type]:
    from app.router.consumer import events

    return [events.ConsumerSessionOpened, events.ConsumerSessionClosed, events.ProviderFailed,
            events.AnswerFinished]

