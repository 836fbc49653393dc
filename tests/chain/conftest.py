"""Chain fixtures: a fresh anvil or eth-tester chain per test (app.devnet runners, real loopback JSON-RPC)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest

from app.chain.client import ChainClient
from app.chain.tx import EscalationPolicy
from app.devnet.chain_node import ChainNode
from app.devnet.node import find_anvil, start_anvil
from app.devnet.tester_server import start_in_process
from app.wallet.signer import KeySigner
from tests.chain.flaky_proxy import FlakyProxy

# anvil's default dev accounts ("test test ... junk"): public throwaway keys, funded on both engines.
DEV_KEYS = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
)

# Escalation timings shrunk so a stuck transaction fails in 1.5 s instead of 3 minutes.
FAST_POLICY = EscalationPolicy(check_interval=0.3, max_attempts=3, total_timeout=1.5, poll_interval=0.05)


def free_port() -> int:
    """A port nothing listens on (bound then released), for "unreachable RPC" tests."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def eventually(predicate: Callable[[], bool], limit_s: float = 10.0) -> None:
    """Poll ``predicate`` until it holds (a TimeoutError after ``limit_s``): state is awaited, never slept on."""
    async with asyncio.timeout(limit_s):
        while True:
            if predicate():
                return
            await asyncio.sleep(0.02)


@dataclass
class Node:
    """A running chain for one test."""

    url: str
    chain_id: int
    engine: str
    handle: ChainNode

    async def stop(self) -> None:
        await self.handle.stop()


async def start_anvil_node() -> Node:
    if find_anvil() is None:
        pytest.skip("anvil is not installed (npm ci --prefix packaging/npm, or set ANVIL_PATH)")
    chain = await start_anvil(state_path=None)
    return Node(chain.rpc_url, chain.chain_id, "anvil", chain)


async def start_engine(engine: str) -> Node:
    if engine == "anvil":
        return await start_anvil_node()
    # The chain client's tests need the engine, not its process (tests/devnet covers the child): in this process
    # a fresh chain is ~0.7 s quicker, over a hundred times in the suite.
    chain = await start_in_process()
    return Node(chain.rpc_url, chain.chain_id, "eth-tester", chain)


@pytest.fixture
async def anvil() -> AsyncIterator[Node]:
    node = await start_anvil_node()
    try:
        yield node
    finally:
        await node.stop()


@pytest.fixture(params=["anvil", "eth-tester"])
async def node(request: pytest.FixtureRequest) -> AsyncIterator[Node]:
    """Both engines the app supports, each over real loopback JSON-RPC."""
    started = await start_engine(request.param)
    try:
        yield started
    finally:
        await started.stop()


@pytest.fixture
async def proxy(anvil: Node) -> AsyncIterator[FlakyProxy]:
    """A switchable proxy in front of the ``anvil`` node."""
    p = FlakyProxy(anvil.url)
    await p.start()
    try:
        yield p
    finally:
        await p.stop()


@pytest.fixture
def signers() -> list[KeySigner]:
    return [KeySigner.from_hex(k) for k in DEV_KEYS]


@pytest.fixture
async def client(node: Node) -> AsyncIterator[ChainClient]:
    async with ChainClient([node.url], expected_chain_id=node.chain_id, backoff=0.05) as c:
        yield c


@pytest.fixture
async def anvil_client(anvil: Node) -> AsyncIterator[ChainClient]:
    async with ChainClient([anvil.url], expected_chain_id=anvil.chain_id, backoff=0.05) as c:
        yield c
