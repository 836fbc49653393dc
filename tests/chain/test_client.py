"""ChainClient against real endpoints: chain-id check, unreachable RPCs, failover, health, reads."""

from __future__ import annotations

import pytest

from app.chain.client import ChainClient
from app.chain.errors import ChainUnreachableError, WrongChainError
from tests.chain.conftest import Node, free_port, start_anvil_node

DEV0 = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"


async def test_connect_reports_chain_id_and_reads_balances_and_blocks(client: ChainClient, node: Node) -> None:
    assert client.chain_id == node.chain_id
    assert client.reachable
    assert client.health.url == node.url
    assert await client.get_balance(DEV0) > 0
    assert await client.block_number() >= 0
    assert await client.block_timestamp() > 1_600_000_000


async def test_wrong_chain_id_names_both_chains_and_the_fix(anvil: Node) -> None:
    client = ChainClient([anvil.url], expected_chain_id=8453, backoff=0.01)
    with pytest.raises(WrongChainError) as caught:
        await client.connect()
    assert caught.value.actual == 31337
    assert caught.value.expected == 8453
    assert "is local devnet (chain id 31337), expected 8453 (Base): pick an RPC URL for Base" in str(caught.value)
    assert not client.reachable


async def test_unreachable_rpc_raises_chain_unreachable_naming_the_url() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    client = ChainClient([url], retries=2, backoff=0.01, timeout=2)
    with pytest.raises(ChainUnreachableError) as caught:
        await client.connect()
    assert url in caught.value.user_message
    assert "ETH_NODE_ADDRESS" in caught.value.user_message
    assert client.health.reachable is False
    assert client.health.last_error


async def test_connect_skips_a_dead_url_and_uses_the_next(anvil: Node) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    async with ChainClient([dead, anvil.url], expected_chain_id=31337, backoff=0.01) as client:
        assert client.url == anvil.url
        assert await client.block_number() >= 0


async def test_fails_over_when_the_current_rpc_dies_mid_session(anvil: Node) -> None:
    second = await start_anvil_node()
    try:
        seen: list[bool] = []
        async with ChainClient([anvil.url, second.url], expected_chain_id=31337, backoff=0.01) as client:
            client.health_listeners.append(lambda h: seen.append(h.reachable))
            assert client.url == anvil.url
            await anvil.stop()
            assert await client.block_number() >= 0
            assert client.url == second.url
            assert client.reachable
        assert False in seen  # went down...
        assert seen[-1] is False  # ...and was closed
    finally:
        await second.stop()


async def test_every_request_fails_with_chain_unreachable_after_the_node_stops(anvil: Node) -> None:
    async with ChainClient([anvil.url], expected_chain_id=31337, retries=2, backoff=0.01) as client:
        await anvil.stop()
        with pytest.raises(ChainUnreachableError):
            await client.get_balance(DEV0)
        assert not client.reachable


async def test_url_secrets_are_not_echoed_in_errors() -> None:
    url = f"http://127.0.0.1:{free_port()}/v2/SECRETAPIKEY"
    client = ChainClient([url], retries=1, timeout=2)
    with pytest.raises(ChainUnreachableError) as caught:
        await client.connect()
    assert "SECRETAPIKEY" not in caught.value.user_message


async def test_websocket_urls_connect_over_ws(anvil: Node) -> None:
    ws_url = anvil.url.replace("http://", "ws://")
    async with ChainClient([ws_url], expected_chain_id=31337) as client:
        assert client.chain_id == 31337
        assert await client.get_balance(DEV0) > 0
