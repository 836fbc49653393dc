"""The router parts that live while the wallet is unlocked: the consumer service and the provider node."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from app.chain.client import ChainClient
from app.chain.diamond import Diamond
from app.chain.events import SessionEventWatcher
from app.chain.token import MorToken
from app.config.node_config import NodeConfig
from app.errors import AppError
from app.events import EventBus
from app.router.consumer.service import ConsumerService, ConsumerSettings
from app.router.provider.node import ProviderNode
from app.router.provider.user_keys import StoredUserKeys
from app.signer import Signer
from app.storage.store import AsyncStorage

log = logging.getLogger(__name__)


@dataclass
class RouterParts:
    """The consumer service and the provider node of one unlocked wallet; built together, stopped together."""

    consumer: ConsumerService
    provider: ProviderNode | None
    serving: bool = field(default=False)
    watcher: SessionEventWatcher | None = None

    @classmethod
    def build(
        cls,
        config: NodeConfig,
        signer: Signer,
        diamond: Diamond,
        token: MorToken,
        chain: ChainClient,
        storage: AsyncStorage,
        bus: EventBus,
        *,
        with_provider: bool,
    ) -> RouterParts:
        """Wire both sides to the same wallet, chain wrappers, storage and event bus."""
        consumer = ConsumerService(
            signer, diamond, token, chain, storage, bus=bus, rating_config=config.rating,
            settings=ConsumerSettings.from_settings(config.settings),
        )  # fmt: skip
        provider = (
            ProviderNode.from_settings(
                config.settings, signer, diamond, chain, config.models, bus=bus, user_keys=StoredUserKeys(storage)
            )
            if with_provider
            else None
        )
        # Keeps the consumer's session cache in step with the chain (spec §5.6): polling, or WS when configured.
        watcher = SessionEventWatcher(
            chain, diamond.address, signer.address, interval=config.settings.eth_node_polling_interval.total_seconds(),
            use_subscriptions=config.settings.eth_node_use_subscriptions,
        )  # fmt: skip
        return cls(consumer, provider, watcher=watcher)

    async def start(self) -> None:
        """Rehydrate the consumer's sessions; serve MOR-RPC if this wallet is a registered provider (or forced).

        A provider that cannot start (port taken, chain unreadable) is reported on the bus and in the log; the
        consumer keeps working — one broken part must not take the others down.
        """
        found = await self.consumer.start(chain_events=self.watcher.events() if self.watcher else None)
        log.info("consumer started: %d open session(s) found on chain", found)
        if self.provider is not None:
            try:
                self.serving = await self.provider.start()
            except AppError as e:
                log.warning("provider node not started: %s", e.user_message)

    async def stop(self) -> None:
        """Stop serving and stop the consumer's background work (open sessions stay open on chain)."""
        if self.provider is not None:
            await self.provider.stop()
        await self.consumer.stop()
