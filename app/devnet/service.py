"""DevnetService: starts the chain, prepares the protocol on it, and offers the faucet; one object to own it all."""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Literal

from app.chain.client import ChainClient
from app.devnet.chain_node import ChainNode, Engine
from app.devnet.deployment import Deployment, clear_rpc_info, devnet_dir, save_rpc_info
from app.devnet.faucet import Faucet
from app.devnet.node import start_anvil, start_chain, start_eth_tester
from app.devnet.progress import ProgressCallback, StartupStep, StepReporter
from app.devnet.setup import FAUCET_INDEX, dev_signer, ensure_protocol
from app.errors import DevnetError

log = logging.getLogger(__name__)

EngineChoice = Literal["auto", "anvil", "eth-tester"]
SetupStep = Callable[["DevnetService"], Awaitable[str | None]]  # returns a message for the progress report


class DevnetService:
    """The embedded devnet: chain node + protocol deployment + faucet, with startup progress and reset."""

    def __init__(
        self, data_dir: Path, *, engine: EngineChoice = "auto", progress: ProgressCallback | None = None
    ) -> None:
        self.data_dir = data_dir
        self.engine_choice: EngineChoice = engine
        self._reporter = StepReporter(progress)
        self._extra_steps: list[tuple[str, SetupStep]] = []
        self._node: ChainNode | None = None
        self._client: ChainClient | None = None
        self._deployment: Deployment | None = None
        self._faucet: Faucet | None = None
        self.freshly_deployed = False

    def add_setup_step(self, name: str, step: SetupStep) -> None:
        """Run ``step`` after the protocol is ready on every start (e.g. seeding demo providers)."""
        self._extra_steps.append((name, step))

    @property
    def steps(self) -> list[StartupStep]:
        """Every progress report so far (for a late-opening startup screen)."""
        return list(self._reporter.history)

    # -- state -------------------------------------------------------------------------------------------------
    def _require_started(self) -> tuple[ChainNode, ChainClient, Deployment, Faucet]:
        if self._node is None or self._client is None or self._deployment is None or self._faucet is None:
            raise DevnetError("The devnet is not running yet; start it first.")
        return self._node, self._client, self._deployment, self._faucet

    @property
    def rpc_url(self) -> str:
        return self._require_started()[0].rpc_url

    @property
    def chain_id(self) -> int:
        return self._require_started()[0].chain_id

    @property
    def engine(self) -> Engine:
        return self._require_started()[0].engine

    @property
    def persistent(self) -> bool:
        return self._require_started()[0].persistent

    @property
    def addresses(self) -> Deployment:
        return self._require_started()[2]

    @property
    def client(self) -> ChainClient:
        return self._require_started()[1]

    @property
    def faucet(self) -> Faucet:
        return self._require_started()[3]

    @property
    def node(self) -> ChainNode | None:
        return self._node

    # -- lifecycle ---------------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the chain, connect, deploy or reuse the protocol, run extra setup steps; report each step."""
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        async with self._reporter.step("chain", "starting the local chain") as done:
            self._node = await self._start_node()
            kept = "kept between launches" if self._node.persistent else "NOT kept between launches"
            done(f"{self._node.engine} on {self._node.rpc_url} (state {kept})")
        node = self._node
        async with self._reporter.step("connect", "connecting to the local chain") as done:
            self._client = ChainClient([node.rpc_url], expected_chain_id=node.chain_id)
            await self._client.connect()
            done(f"chain id {node.chain_id}")
        async with self._reporter.step("contracts", "preparing the Morpheus contracts") as done:
            self._deployment, self.freshly_deployed = await ensure_protocol(
                self._client, self.data_dir, persistent=node.persistent
            )
            verb = "deployed" if self.freshly_deployed else "reused"
            done(f"{verb} Diamond {self._deployment.diamond}")
        self._faucet = Faucet(self._client, dev_signer(FAUCET_INDEX), self._deployment.mor)
        for name, step in self._extra_steps:
            async with self._reporter.step(name) as done:
                message = await step(self)
                if message:
                    done(message)
        save_rpc_info(self.data_dir, node.rpc_url, node.chain_id, node.engine, os.getpid())

    async def _start_node(self) -> ChainNode:
        if self.engine_choice == "anvil":
            from app.devnet.node import anvil_state_path

            return await start_anvil(state_path=anvil_state_path(self.data_dir))
        if self.engine_choice == "eth-tester":
            return await start_eth_tester()
        return await start_chain(data_dir=self.data_dir)

    async def stop(self) -> None:
        """Stop the chain (anvil saves its state) and forget the connection. Safe to call more than once."""
        client, self._client = self._client, None
        node, self._node = self._node, None
        self._faucet = None
        self._deployment = None
        if client is not None:
            await client.close()
        if node is not None:
            await node.stop()
            clear_rpc_info(self.data_dir)

    async def reset(self) -> None:
        """Reset devnet: stop, delete the saved chain state and deployment, start a fresh chain."""
        await self.stop()
        wipe_devnet(self.data_dir)
        await self.start()


def wipe_devnet(data_dir: Path) -> None:
    """Delete the devnet folder (chain state, deployment, RPC info)."""
    folder = devnet_dir(data_dir)
    if folder.exists():
        shutil.rmtree(folder)
        log.info("devnet reset: removed %s", folder)
