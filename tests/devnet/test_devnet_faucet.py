"""The faucet sends ETH and MOR to any address through the app's own chain client, on both engines."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from eth_utils import to_checksum_address

from app.chain.artifacts import load_artifact
from app.chain.client import ChainClient
from app.chain.tx import TxSender
from app.devnet.chain_node import ChainNode
from app.devnet.faucet import DEFAULT_ETH_WEI, DEFAULT_MOR_WEI, Faucet
from app.devnet.setup import dev_signer
from app.errors import DevnetError

_NEW_WALLET = to_checksum_address("0x00000000000000000000000000000000000f00d1")


@pytest.fixture
async def client(chain: ChainNode) -> AsyncIterator[ChainClient]:
    async with ChainClient([chain.rpc_url], expected_chain_id=chain.chain_id) as connected:
        yield connected


@pytest.fixture
async def faucet(client: ChainClient) -> Faucet:
    """A faucet on dev account 0, which holds the MOR mock's whole initial supply."""
    owner = dev_signer(0)
    receipt = await TxSender(client, owner).deploy(
        bytes.fromhex(load_artifact("MorpheusToken")["bytecode"].removeprefix("0x")), "deploying MOR"
    )
    assert receipt.contract_address is not None
    return Faucet(client, owner, receipt.contract_address)


async def test_fund_sends_the_default_10_eth_and_1000_mor(client: ChainClient, faucet: Faucet) -> None:
    await faucet.fund(_NEW_WALLET)
    assert await client.get_balance(_NEW_WALLET) == DEFAULT_ETH_WEI == 10 * 10**18
    assert await faucet.mor_balance(_NEW_WALLET) == DEFAULT_MOR_WEI == 1000 * 10**18


async def test_fund_sends_exactly_the_requested_amounts(client: ChainClient, faucet: Faucet) -> None:
    await faucet.fund(_NEW_WALLET.lower(), eth_wei=1, mor_wei=0)
    assert await client.get_balance(_NEW_WALLET) == 1
    assert await faucet.mor_balance(_NEW_WALLET) == 0


async def test_fund_rejects_a_malformed_address(faucet: Faucet) -> None:
    with pytest.raises(DevnetError, match="not an Ethereum address"):
        await faucet.fund("0x1234")


async def test_fund_more_mor_than_the_faucet_holds_says_why(faucet: Faucet) -> None:
    with pytest.raises(DevnetError, match="could not fund"):
        await faucet.fund(_NEW_WALLET, eth_wei=0, mor_wei=10**9 * 10**18)
