"""Helpers for demo-marketplace tests: free ports for the demo specs, a devnet with the demo attached, a consumer."""

from __future__ import annotations

import dataclasses
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from app.chain.diamond import Diamond
from app.chain.multicall import Multicall
from app.chain.token import MorToken
from app.chain.tx import TxSender
from app.devnet.demo import DEMO_PROVIDERS, DemoMarketplace, DemoProviderSpec
from app.devnet.local_model import LocalModelServer
from app.devnet.progress import StartupStep
from app.devnet.service import DevnetService
from app.devnet.setup import dev_signer
from app.router.consumer.failover import ChatItem, ChunkItem
from app.router.consumer.prompt import content_of
from app.router.consumer.service import ConsumerService, ConsumerSettings
from app.signer import Signer
from app.storage.store import AsyncStorage


def free_ports(count: int) -> list[int]:
    """Ports free right now on 127.0.0.1 (bound together, so they are distinct)."""
    sockets = [socket.socket(socket.AF_INET, socket.SOCK_STREAM) for _ in range(count)]
    try:
        for s in sockets:
            s.bind(("127.0.0.1", 0))
        return [int(s.getsockname()[1]) for s in sockets]
    finally:
        for s in sockets:
            s.close()


def specs_on_free_ports() -> tuple[DemoProviderSpec, ...]:
    """The shipped demo providers, moved to free ports so tests never meet a running app's fixed ports."""
    ports = free_ports(len(DEMO_PROVIDERS))
    return tuple(dataclasses.replace(spec, port=port) for spec, port in zip(DEMO_PROVIDERS, ports, strict=True))


def absent_model(tmp_path: Path) -> LocalModelServer:
    """A model server whose model file does not exist: what a machine without the ``llm`` extra sees."""
    return LocalModelServer(model_path=tmp_path / "not-installed.gguf")


@asynccontextmanager
async def running_demo(data_dir: Path, demo: DemoMarketplace,
                       steps: list[StartupStep] | None = None) -> AsyncIterator[DevnetService]:
    """An anvil devnet (state kept under ``data_dir``) started with ``demo`` attached; both stopped after."""
    devnet = DevnetService(data_dir, engine="anvil", progress=steps.append if steps is not None else None)
    demo.attach(devnet)
    try:
        await devnet.start()
        yield devnet
    finally:
        await demo.stop()
        await devnet.stop()


@asynccontextmanager
async def consumer_for(devnet: DevnetService, signer: Signer, storage_path: Path,
                       *, failover: bool = False) -> AsyncIterator[ConsumerService]:
    """A ConsumerService for ``signer`` (funded from the faucet) on the devnet's protocol."""
    await devnet.faucet.fund(signer.address)
    sender = TxSender(devnet.client, signer)
    multicall = Multicall(devnet.client, devnet.addresses.multicall3)
    diamond = Diamond(devnet.client, devnet.addresses.diamond, sender, multicall)
    token = MorToken(devnet.client, devnet.addresses.mor, sender)
    storage = await AsyncStorage.open(storage_path)
    service = ConsumerService(signer, diamond, token, devnet.client, storage,
                              settings=ConsumerSettings(failover_enabled=failover, first_message_timeout_s=30.0))
    try:
        yield service
    finally:
        await service.stop()
        await storage.close()


async def answer_text(items: AsyncIterator[ChatItem]) -> str:
    """The answer's text from a chat stream (control messages skipped)."""
    text = ""
    async for item in items:
        if isinstance(item, ChunkItem):
            text += content_of(item.data)
    return text


def spare_consumer() -> Signer:
    """Dev account #8: free for tests (the demo uses #3–#7)."""
    return dev_signer(8)
