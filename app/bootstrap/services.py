"""Services: everything the node runs, built from configuration, started in order, each step reported."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TYPE_CHECKING

from app.config.node_config import NodeConfig
from app.devnet.progress import StartupStep
from app.errors import AppError
from app.events import EventBus, ServiceState, WalletState
from app.storage.store import AsyncStorage
from app.tasks import TaskSupervisor
from app.wallet.manager import LockEvent, LockState, WalletManager

if TYPE_CHECKING:  # the chain side (web3, eth-account: seconds of imports) loads only when the chain starts
    from app.bootstrap.router_parts import RouterParts
    from app.chain.client import ChainClient
    from app.chain.diamond import Diamond
    from app.chain.networks import NetworkConfig
    from app.chain.token import MorToken
    from app.chain.tx import TxSender
    from app.devnet.demo import DemoMarketplace
    from app.devnet.service import DevnetService, EngineChoice
    from app.router.consumer.service import ConsumerService
    from app.router.provider.node import ProviderNode

log = logging.getLogger(__name__)


class Services:
    """The node's parts and their lifecycle. The GUI and headless mode both build one and drive it.

    Start order: storage → chain (embedded devnet or the configured RPC) → wallet. When the wallet unlocks, the
    write side (transaction sender, Diamond and MOR with a sender) is attached and the router parts start: the
    consumer service and, if this wallet is a registered provider (or PROVIDER_FORCE), the MOR-RPC provider node.
    When it locks, they stop and the write side is dropped.
    """

    def __init__(
        self,
        config: NodeConfig,
        data_dir: Path,
        *,
        bus: EventBus | None = None,
        devnet_engine: EngineChoice = "auto",
        wallet: WalletManager | None = None,
        with_provider: bool = True,
        demo: bool = True,
    ) -> None:
        self.config = config
        self.settings = config.settings
        self.data_dir = data_dir
        self.bus = bus or EventBus()
        self.tasks = TaskSupervisor("services")
        self.devnet_engine: EngineChoice = devnet_engine
        self.wallet = wallet or WalletManager(data_dir)
        self.storage: AsyncStorage | None = None
        self.devnet: DevnetService | None = None
        self.chain: ChainClient | None = None
        self.network: NetworkConfig | None = None
        self.diamond: Diamond | None = None
        self.token: MorToken | None = None
        self.sender: TxSender | None = None
        self.router: RouterParts | None = None
        self._router_start: asyncio.Task[None] | None = None
        self._tx_recovery: asyncio.Task[object] | None = None
        self.with_provider = with_provider
        self.with_demo = demo
        self.demo: DemoMarketplace | None = None
        self.failed: dict[str, str] = {}
        self._unsubscribe_wallet = self.wallet.subscribe(self._on_wallet_event)

    # -- reporting ---------------------------------------------------------------------------------------------
    @contextlib.asynccontextmanager
    async def _step(self, service: str, starting: str) -> AsyncIterator[list[str]]:
        """Publish ``service`` as starting, then running (with the detail set by the body) or failed."""
        start = time.monotonic()
        detail = [""]
        self.bus.publish(ServiceState(service, "starting", starting))
        try:
            yield detail
        except AppError as e:
            self.failed[service] = e.user_message
            self.bus.publish(ServiceState(service, "failed", e.user_message, time.monotonic() - start))
            raise
        self.failed.pop(service, None)
        self.bus.publish(ServiceState(service, "running", detail[0], time.monotonic() - start))

    def _on_devnet_step(self, step: StartupStep) -> None:
        state = {"running": "starting", "ok": "running", "failed": "failed"}[step.state]
        self.bus.publish(ServiceState(f"devnet:{step.name}", state, step.message, step.seconds or None))

    # -- lifecycle ---------------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start storage, the chain and the wallet. A failing part is reported and raised as an AppError."""
        await self._open_storage()
        await self._chain_step()
        await self._wallet_step()
        await self._attach_if_unlocked()

    async def open_local(self) -> None:
        """The parts on this machine only: storage and the wallet's state (no chain, no node libraries).

        What the setup wizard and the unlock screen need; :meth:`start_chain` brings up the rest afterwards.
        """
        await self._open_storage()
        await self._wallet_step()

    async def start_chain(self) -> None:
        """After :meth:`open_local`: the chain (embedded devnet with its demo, or the RPC), then the write side if
        the wallet was unlocked meanwhile. Heavy imports run on a worker thread so the GUI stays responsive."""
        await self._chain_step()
        await self._attach_if_unlocked()

    async def _open_storage(self) -> None:
        async with self._step("storage", "opening the local database") as detail:
            self.storage = await AsyncStorage.open(self.data_dir / "node.sqlite3")
            detail[0] = str(self.data_dir / "node.sqlite3")

    async def _chain_step(self) -> None:
        async with self._step("chain", "connecting to the chain") as detail:
            await asyncio.to_thread(import_chain_side)  # a no-op once imported; the loop keeps running meanwhile
            await self._start_chain()
            assert self.network is not None
            detail[0] = f"{self.network.name} (chain id {self.network.chain_id})"

    async def _wallet_step(self) -> None:
        async with self._step("wallet", "looking for a wallet") as detail:
            state = await self.wallet.refresh()
            detail[0] = state.value

    async def _attach_if_unlocked(self) -> None:
        # An unlock before the chain was up found nothing to attach to (see _attach_signer): attach now.
        if self.wallet.state is LockState.UNLOCKED and self.sender is None:
            self._attach_signer()
        if self.wallet.state is LockState.UNLOCKED and self._router_start is not None:
            await self._router_start  # a wallet from the environment: be ready before start() returns

    @property
    def consumer(self) -> ConsumerService | None:
        """The consumer side of the router, while the wallet is unlocked."""
        return self.router.consumer if self.router is not None else None

    @property
    def provider(self) -> ProviderNode | None:
        """The provider node, while the wallet is unlocked (it serves only if registered or forced)."""
        return self.router.provider if self.router is not None else None

    async def _start_chain(self) -> None:
        from app.bootstrap.chain_status import poll_chain_status
        from app.bootstrap.network import network_for_chain, plan_chain
        from app.chain.client import ChainClient
        from app.chain.diamond import Diamond
        from app.chain.multicall import Multicall
        from app.chain.networks import devnet_network
        from app.chain.token import MorToken
        from app.devnet.demo import DemoMarketplace
        from app.devnet.service import DevnetService

        plan = plan_chain(self.settings)
        if plan.devnet:
            self.devnet = DevnetService(self.data_dir, engine=self.devnet_engine, progress=self._on_devnet_step)
            if self.with_demo:
                # Demo providers, the local model and a seeded history run as devnet setup steps, so a devnet
                # reset brings them back too. Their failures are reported, never fatal to the devnet.
                self.demo = DemoMarketplace(self.data_dir)
                self.demo.attach(self.devnet)
            await self.devnet.start()
            self.chain = self.devnet.client
            deployment = self.devnet.addresses
            self.network = devnet_network(
                chain_id=deployment.chain_id,
                rpc_url=self.devnet.rpc_url,
                diamond=deployment.diamond,
                mor=deployment.mor,
                multicall3=deployment.multicall3,
                funding_account=deployment.funding_account,
            )
        else:
            if self.chain is not None:
                await self.chain.close()  # a Retry after a failed start: that attempt's client is not reused
                self.chain = None
            client = ChainClient(plan.rpc_urls, expected_chain_id=plan.expected_chain_id)
            try:
                await client.connect()
                self.network = network_for_chain(self.settings, client.chain_id, plan.rpc_urls)
            except BaseException:
                await client.close()  # nothing else holds it: close its sessions now, not at garbage collection
                raise
            self.chain = client
        multicall = Multicall(self.chain, self.network.multicall3)
        self.diamond = Diamond(self.chain, self.network.diamond, multicall=multicall)
        self.token = MorToken(self.chain, self.network.mor)
        self.tasks.spawn(
            poll_chain_status(self.chain, self.bus, self.network.name, self.network.chain_id), name="chain-status"
        )

    async def stop(self) -> None:
        """Stop everything in reverse order; safe to call more than once and after a failed start."""
        self._unsubscribe_wallet()
        self._unsubscribe_wallet = lambda: None
        await self._stop_router()
        await self.tasks.close()
        self.wallet.lock("shutdown")
        if self.demo is not None:
            await self.demo.stop()  # before the devnet: the demo providers talk to its chain
            self.demo = None
        if self.devnet is not None:
            await self.devnet.stop()
        elif self.chain is not None:
            await self.chain.close()
        self.chain = None
        if self.storage is not None:
            await self.storage.close()
            self.storage = None

    # -- wallet ------------------------------------------------------------------------------------------------
    def _on_wallet_event(self, event: LockEvent) -> None:
        self.bus.publish(WalletState(event.address, locked=event.state is not LockState.UNLOCKED))
        if event.state is LockState.UNLOCKED:
            self._attach_signer()
        else:
            self._detach_signer()

    def _attach_signer(self) -> None:
        """Give the chain wrappers a sender for the unlocked wallet (no-op before the chain is up)."""
        if self.chain is None or self.diamond is None or self.token is None or self.network is None:
            return
        if self.sender is not None and self.sender.signer.address == self.wallet.signer.address:
            return  # already attached: start-up and the unlock event can both ask; one nonce counter per wallet
        from app.bootstrap.router_parts import RouterParts
        from app.bootstrap.tx_journal import StorageTxJournal
        from app.chain.token import MorToken
        from app.chain.tx import TxSender

        journal = StorageTxJournal(self.storage) if self.storage is not None else None
        self.sender = TxSender(self.chain, self.wallet.signer, legacy=self.settings.eth_node_legacy_tx,
                               journal=journal)
        self._resume_transactions(self.sender)
        self.diamond = self.diamond.with_sender(self.sender)
        self.token = MorToken(self.chain, self.network.mor, self.sender)
        log.info("wallet %s attached to the chain wrappers", self.sender.signer.address)
        if self.router is None and self.storage is not None:
            self.router = RouterParts.build(
                self.config, self.wallet.signer, self.diamond, self.token, self.chain, self.storage, self.bus,
                with_provider=self.with_provider,
            )
            self._router_start = self.tasks.spawn(self._start_router(self.router), name="router-start")

    # -- transactions from before a restart (the pending-tx journal) --------------------------------------------
    def _resume_transactions(self, sender: TxSender) -> None:
        """Settle this wallet's journaled transactions in the background; each outcome is published on the bus
        as ``app.chain.tx_recovery.RecoveredTransaction`` (e.g. "… was found and finished: mined in block …")."""
        self._stop_tx_recovery()
        from app.chain.tx_recovery import resume_pending

        if sender.journal is not None:
            self._tx_recovery = self.tasks.spawn(resume_pending(sender, publish=self.bus.publish),
                                                 name="tx-recovery")

    def _stop_tx_recovery(self) -> None:
        # Its sender is being replaced or dropped; unsettled rows stay journaled for the next unlock.
        if self._tx_recovery is not None:
            self._tx_recovery.cancel()
            self._tx_recovery = None

    async def _start_router(self, router: RouterParts) -> None:
        async with self._step("router", "starting the consumer and provider sides") as detail:
            await router.start()
            detail[0] = "consumer ready" + (", provider serving MOR-RPC" if router.serving else "")

    async def _stop_router(self) -> None:
        router, self.router = self.router, None
        if router is not None:
            await router.stop()

    def _detach_signer(self) -> None:
        router, self.router = self.router, None  # swapped now, so an unlock right after builds a fresh one
        if router is not None:
            self.tasks.spawn(router.stop(), name="router-stop")
        self._stop_tx_recovery()
        self.sender = None
        if self.diamond is None and self.token is None:
            return  # the chain never came up: nothing was attached
        from app.chain.diamond import Diamond
        from app.chain.token import MorToken

        if self.diamond is not None:
            self.diamond = Diamond(self.diamond.client, self.diamond.address, multicall=self.diamond.multicall)
        if self.token is not None:
            self.token = MorToken(self.token.client, self.token.address)


def import_chain_side() -> None:
    """Import the chain, devnet and router modules (web3, eth-account, the demo): seconds of work, meant for a
    worker thread (the import system is thread-safe) while the GUI already shows the wizard or the unlock screen."""
    import app.bootstrap.chain_status
    import app.bootstrap.router_parts
    import app.chain.tx_recovery
    import app.devnet.demo
    import app.devnet.service  # noqa: F401
