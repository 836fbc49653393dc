"""Provider test fixtures: one devnet per module (reverted to a snapshot after each test), backend, provider."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from app.router.provider.controller import ProviderController
from app.router.provider.server import MorRpcServer
from tests.router.provider.provider_env import Devnet, models_config, running_devnet, running_provider
from tests.support.openai_backend import Behaviour, OpenAIBackendServer


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def devnet() -> AsyncIterator[Devnet]:
    async with running_devnet() as env:
        yield env


@pytest_asyncio.fixture(loop_scope="module")
async def fresh_chain(devnet: Devnet) -> AsyncIterator[Devnet]:
    """The module's devnet, rolled back after the test so every test starts from the same chain."""
    await devnet.snapshot()
    try:
        yield devnet
    finally:
        await devnet.revert()


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def llm() -> AsyncIterator[OpenAIBackendServer]:
    async with OpenAIBackendServer() as server:
        yield server


@pytest_asyncio.fixture(loop_scope="module")
async def backend(llm: OpenAIBackendServer) -> OpenAIBackendServer:
    """The module's test backend with default behaviour and no recorded requests."""
    llm.behaviour = Behaviour()
    llm.requests.clear()
    return llm


@pytest_asyncio.fixture(loop_scope="module")
async def provider(
    fresh_chain: Devnet, backend: OpenAIBackendServer
) -> AsyncIterator[tuple[MorRpcServer, ProviderController]]:
    async with running_provider(fresh_chain, models_config(fresh_chain.model_id, backend)) as running:
        yield running
