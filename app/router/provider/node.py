"""ProviderNode: the provider side of the router (MOR-RPC server, controller, self-checks, pruning) as one service."""

from __future__ import annotations

import asyncio
import logging
import time

from app.config.models_config import ModelsConfig
from app.config.settings import Settings
from app.errors import AppError
from app.events import EventBus, ServiceState
from app.heap import freeze_startup_heap
from app.router.ports import ChainInfo, MarketplacePort
from app.router.provider.backend_pool import BackendPool
from app.router.provider.backends import DEFAULT_LLM_TIMEOUT
from app.router.provider.controller import DelegationCheck, ProviderController
from app.router.provider.selfcheck import ProviderCheck, run_self_checks
from app.router.provider.server import MorRpcServer, parse_host_port
from app.router.provider.sessions import SessionStore
from app.router.provider.user_keys import UserKeyStore
from app.signer import Signer
from app.tasks import TaskSupervisor

__all__ = ["ProviderNode", "ProviderState", "freeze_startup_heap"]

log = logging.getLogger(__name__)

SERVICE = "provider"


class ProviderState:
    """The states a ProviderNode is in (strings, as ServiceState events carry them)."""

    STOPPED = "stopped"
    NOT_PROVIDER = "not a provider"
    RUNNING = "running"
    FAILED = "failed"


class ProviderNode:
    """Serves MOR-RPC when the wallet is a registered provider (or ``force``); start() then stop() once each."""

    def __init__(
        self,
        signer: Signer,
        marketplace: MarketplacePort,
        chain: ChainInfo,
        models: ModelsConfig,
        *,
        listen: str = "0.0.0.0:3333",
        force: bool = False,
        llm_timeout: float = DEFAULT_LLM_TIMEOUT,
        bus: EventBus | None = None,
        self_checks: bool = True,
        prune_interval: float = 60.0,
        delegation: DelegationCheck | None = None,
        user_keys: UserKeyStore | None = None,
    ) -> None:
        self.signer = signer
        self.marketplace = marketplace
        self.force = force
        self.bus = bus
        self.models = models
        self._self_checks = self_checks
        self._prune_interval = prune_interval
        host, port = parse_host_port(listen)
        self.store = SessionStore()
        self.backends = BackendPool(models, llm_timeout=llm_timeout)
        self.controller = ProviderController(
            signer, marketplace, chain, self.backends, self.store, delegation=delegation, user_keys=user_keys
        )
        self.server = MorRpcServer(self.controller, host, port)
        self.state = ProviderState.STOPPED
        self.checks: list[ProviderCheck] = []
        self._tasks = TaskSupervisor("provider")

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        signer: Signer,
        marketplace: MarketplacePort,
        chain: ChainInfo,
        models: ModelsConfig,
        bus: EventBus | None = None,
        user_keys: UserKeyStore | None = None,
    ) -> ProviderNode:
        """Build from the node settings: PROXY_ADDRESS, PROVIDER_FORCE and LLM_TIMEOUT."""
        return cls(
            signer,
            marketplace,
            chain,
            models,
            listen=settings.proxy_address,
            force=settings.provider_force,
            llm_timeout=settings.llm_timeout.total_seconds(),
            bus=bus,
            user_keys=user_keys,
        )

    @property
    def port(self) -> int:
        """The bound MOR-RPC port (the real one after binding port 0)."""
        return self.server.address[1]

    def _set_state(self, state: str, detail: str = "", seconds: float | None = None) -> None:
        self.state = state
        if self.bus is not None:
            self.bus.publish(ServiceState(SERVICE, state, detail, seconds))

    async def start(self) -> bool:
        """Start serving if this wallet is a registered provider or ``force`` is set; True when serving.

        Raises AppError (and the state becomes ``failed``) when the chain cannot be read or the port is taken.
        """
        started = time.monotonic()
        self._set_state("starting")
        try:
            registered = (await self.marketplace.get_provider(self.signer.address)).is_active
            if not registered and not self.force:
                detail = f"{self.signer.address} is not a registered provider; MOR-RPC is not served."
                log.info(detail)
                self._set_state(ProviderState.NOT_PROVIDER, detail)
                return False
            await self.server.start()
        except AppError as e:
            self._set_state(ProviderState.FAILED, e.user_message)
            raise
        for entry in self.models.unsupported:
            log.warning("models-config: %s (apiType %s) is not served by this node", entry.model_id, entry.api_type)
        host, port = self.server.address
        freeze_startup_heap()
        self._set_state(ProviderState.RUNNING, f"MOR-RPC on {host}:{port}", time.monotonic() - started)
        self._tasks.spawn(self._prune_loop(), name="prune")
        if self._self_checks:
            self._tasks.spawn(self._run_checks(), name="self-checks")
        return True

    async def run_checks(self) -> list[ProviderCheck]:
        """Run the self-checks now (registered, endpoint reachable, bids); results are also published."""
        self.checks = await run_self_checks(self.signer, self.marketplace, self.models, self.bus)
        return self.checks

    async def _run_checks(self) -> None:
        try:
            await self.run_checks()
        except AppError as e:  # a chain outage must not take the provider down
            log.warning("provider self-checks could not run: %s", e.user_message)

    async def _prune_loop(self) -> None:
        while True:
            await asyncio.sleep(self._prune_interval)
            dropped = self.store.prune()
            if dropped:
                log.debug("pruned %d ended sessions", dropped)

    async def stop(self) -> None:
        """Close every connection (cancelling their backend requests), stop background work, close backends."""
        await self.server.stop()
        await self._tasks.close()
        await self.backends.close()
        self._set_state(ProviderState.STOPPED)
