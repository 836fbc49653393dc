"""Chain fixtures: a fresh anvil (or eth-tester served over loopback JSON-RPC) per test, dev-account signers."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest

from app.chain.client import ChainClient
from app.chain.tx import EscalationPolicy
from app.wallet.signer import KeySigner

REPO = Path(__file__).resolve().parents[2]

# anvil's default dev accounts ("test test ... junk"): public throwaway keys.
DEV_KEYS = (
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "0x5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "0x7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "0x47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
)

FAST_POLICY = EscalationPolicy(check_interval=0.3, max_attempts=3, total_timeout=1.5, poll_interval=0.05)


def anvil_binary() -> Path | None:
    path = Path(os.environ.get("ANVIL_PATH") or REPO / "packaging/npm/node_modules/.bin/anvil")
    return path if path.exists() else None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_until_answers(url: str, limit_s: float = 15.0) -> None:
    """Poll eth_chainId until the node answers (no fixed sleeps)."""
    deadline = asyncio.get_running_loop().time() + limit_s
    body = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    async with aiohttp.ClientSession() as http:
        while True:
            try:
                async with http.post(url, json=body) as response:
                    if response.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"{url} did not answer within {limit_s} s")
            await asyncio.sleep(0.05)


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
    process: subprocess.Popen[bytes] | None = None


async def start_anvil_process(*extra: str, chain_id: int = 31337) -> Node:
    binary = anvil_binary()
    if binary is None:
        pytest.skip("anvil is not installed (npm ci --prefix packaging/npm, or set ANVIL_PATH)")
    port = free_port()
    args = [str(binary), "--port", str(port), "--host", "127.0.0.1", "--chain-id", str(chain_id), "--silent", *extra]
    proc = await asyncio.to_thread(subprocess.Popen, args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_until_answers(url)
    except BaseException:
        proc.kill()
        proc.wait()
        raise
    return Node(url, chain_id, "anvil", proc)


def stop_process(node: Node) -> None:
    if node.process is not None:
        node.process.terminate()
        try:
            node.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            node.process.kill()
            node.process.wait()


@pytest.fixture
async def anvil() -> AsyncIterator[Node]:
    node = await start_anvil_process()
    try:
        yield node
    finally:
        stop_process(node)


@pytest.fixture(params=["anvil", "eth-tester"])
async def node(request: pytest.FixtureRequest) -> AsyncIterator[Node]:
    """Both engines the app supports, each over real loopback JSON-RPC."""
    if request.param == "anvil":
        started = await start_anvil_process()
        try:
            yield started
        finally:
            stop_process(started)
        return
    try:
        from app.devnet.node import start_eth_tester
    except ImportError:
        pytest.skip("app.devnet.node (the eth-tester JSON-RPC server) has not landed yet")
    chain = await start_eth_tester()
    try:
        yield Node(chain.rpc_url, chain.chain_id, "eth-tester")
    finally:
        await chain.stop()


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
