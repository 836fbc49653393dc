"""A devnet marketplace for fault tests: anvil, three real provider nodes each behind a ChaosProxy, one consumer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from app.chain.client import ChainClient
from app.config.models_config import parse_models_config
from app.devnet.accounts import dev_private_keys
from app.devnet.anvil import start_anvil
from app.router.consumer.service import ConsumerService, ConsumerSettings
from app.router.provider.backend_pool import BackendPool
from app.router.provider.controller import ProviderController
from app.router.provider.server import MorRpcServer
from app.signer import Signer
from app.storage.store import AsyncStorage
from app.wallet.signer import KeySigner
from tests.chain.protocol_env import MOR, Party, Protocol, deploy_funded_protocol
from tests.faults.chaos_proxy import ChaosProxy, Mode
from tests.router.consumer.consumer_env import party
from tests.support.openai_backend import Behaviour, OpenAIBackendServer

BASE_MODEL = b"\x61" * 32
PRICES = (10**14, 2 * 10**14, 3 * 10**14)  # A ranks first, then B, then C
FIRST_MESSAGE_TIMEOUT_S = 1.5


class ForgingSigner:
    """Poses as ``real`` (address, public key, ECDH) but signs everything with ``forger``'s key."""

    def __init__(self, real: Signer, forger: Signer) -> None:
        self.address = real.address
        self.public_key = real.public_key
        self.ecdh_x = real.ecdh_x
        self.sign_transaction = forger.sign_transaction
        self.sign_personal_hash = forger.sign_personal_hash
        self.sign_raw_hash = forger.sign_raw_hash


@dataclass
class FaultyProvider:
    """A real provider node (controller + MOR-RPC server + test backend) reachable only through ``proxy``."""

    name: str
    party: Party
    backend: OpenAIBackendServer
    controller: ProviderController
    server: MorRpcServer
    proxy: ChaosProxy
    bid_id: bytes = b""

    @property
    def address(self) -> str:
        return self.party.address.lower()

    @property
    def bid_hex(self) -> str:
        return "0x" + self.bid_id.hex()

    def sign_with(self, forger: Signer) -> None:
        """From now on answers are signed with ``forger``'s key (still claiming, and encrypting as, this provider)."""
        self.controller.signer = ForgingSigner(self.party.signer, forger)

    async def reset(self) -> None:
        """Healthy again: proxy listening and passing, registered key, default backend, no recorded requests."""
        if not self.proxy.alive:
            await self.proxy.start()
        self.proxy.mode = Mode.PASS
        self.controller.signer = self.party.signer
        self.backend.behaviour = Behaviour()
        self.backend.requests.clear()


@dataclass
class FaultMarket:
    """Chain + providers A, B, C bidding on one model + the consumer service over ``storage``."""

    client: ChainClient
    protocol: Protocol
    model_id: bytes
    providers: list[FaultyProvider]
    user: Party
    storage: AsyncStorage
    consumer: ConsumerService

    @property
    def model_hex(self) -> str:
        return "0x" + self.model_id.hex()

    def by_address(self, address: str) -> FaultyProvider:
        return next(p for p in self.providers if p.address == address.lower())

    async def reset(self) -> None:
        for p in self.providers:
            await p.reset()
        # Failures in earlier tests cool providers down; each test starts from a market without grudges.
        for p in self.providers:
            await self.storage.run(self.storage.sync.provider_stats.clear_cooldown, p.address, self.model_hex)


async def _provider(stack: AsyncExitStack, client: ChainClient, name: str, p: Party, model_id: bytes) -> FaultyProvider:
    backend = await stack.enter_async_context(OpenAIBackendServer())
    entry = {"modelId": "0x" + model_id.hex(), "modelName": "served-model", "apiType": "openai",
             "apiUrl": backend.base_url}
    pool = BackendPool(parse_models_config({"models": [entry]}, "fault models-config"), llm_timeout=30)
    stack.push_async_callback(pool.close)
    controller = ProviderController(p.signer, p.diamond, client, pool)
    server = MorRpcServer(controller, "127.0.0.1", 0)
    await server.start()
    stack.push_async_callback(server.stop)
    proxy = ChaosProxy(server.address)
    await proxy.start()
    stack.push_async_callback(proxy.stop)
    return FaultyProvider(name, p, backend, controller, server, proxy)


@asynccontextmanager
async def running_fault_market(data_dir: Path, settings: ConsumerSettings | None = None) -> AsyncIterator[FaultMarket]:
    """Everything up on a fresh anvil (providers registered at their proxies' endpoints); torn down in reverse."""
    async with AsyncExitStack() as stack:
        node = await start_anvil(state_path=None)
        stack.push_async_callback(node.stop)
        client = await stack.enter_async_context(
            ChainClient([node.rpc_url], expected_chain_id=node.chain_id, backoff=0.05))
        protocol = await deploy_funded_protocol(client, [KeySigner(k) for k in dev_private_keys()[:4]])
        parties = [protocol.provider, party(client, 4, protocol), party(client, 5, protocol)]
        for p in parties[1:]:
            await protocol.owner.token.transfer(p.address, 20 * MOR)
        await protocol.owner.token.transfer(protocol.user.address, 5_000 * MOR)
        model_id = await parties[0].diamond.get_model_id(parties[0].address, BASE_MODEL)
        providers = [await _provider(stack, client, name, p, model_id) for name, p in zip("ABC", parties, strict=True)]
        for prov in providers:
            await prov.party.token.approve(protocol.addresses.diamond, 10 * MOR)
            await prov.party.diamond.provider_register(prov.party.address, 5 * MOR, prov.proxy.endpoint)
        await parties[0].diamond.model_register(parties[0].address, BASE_MODEL, b"\x07" * 32, 0, MOR, "fault-llm",
                                                ["llm"])
        for prov, price in zip(providers, PRICES, strict=True):
            prov.bid_id = (await prov.party.diamond.post_model_bid(prov.party.address, model_id, price)).id
        storage = await AsyncStorage.open(data_dir / "consumer.sqlite3")
        stack.push_async_callback(storage.close)
        consumer = ConsumerService(
            protocol.user.signer, protocol.user.diamond, protocol.user.token, client, storage,
            settings=settings or ConsumerSettings(first_message_timeout_s=FIRST_MESSAGE_TIMEOUT_S))
        stack.push_async_callback(consumer.stop)
        yield FaultMarket(client, protocol, model_id, providers, protocol.user, storage, consumer)
