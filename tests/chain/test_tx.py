"""TxSender on a real chain: signing locally, nonces under concurrency, reverts, rejections, stuck txs."""

from __future__ import annotations

import asyncio

import pytest

from app.chain.client import ChainClient
from app.chain.errors import ContractRevertError, TxRejectedError, TxTimeoutError
from app.chain.fees import bump
from app.chain.tx import EscalationPolicy, TxSender
from app.wallet.signer import KeySigner
from tests.chain.conftest import FAST_POLICY, eventually
from tests.chain.flaky_proxy import FlakyProxy

# Creation code for a contract whose every call reverts with SessionTooShort() (selector 0xf4d7eed5):
# runtime = PUSH4 f4d7eed5 PUSH1 e0 SHL PUSH1 0 MSTORE PUSH1 4 PUSH1 0 REVERT.
# The 11-byte init code copies those 16 bytes to memory and returns them.
ALWAYS_REVERTS = bytes.fromhex("601080600b6000396000f3" + "63f4d7eed560e01b60005260046000fd")
THROWAWAY = "0x" + "11" * 32  # a key with no funds


async def test_eth_transfer_is_signed_locally_and_mined(client: ChainClient, signers: list[KeySigner]) -> None:
    sender = TxSender(client, signers[0], policy=FAST_POLICY)
    to = signers[1].address
    before = await client.get_balance(to)

    receipt = await sender.transfer_eth(to, 10**15)

    assert receipt.block_number > 0
    assert await client.get_balance(to) == before + 10**15
    assert sender.pending() == []


async def test_legacy_mode_sends_gas_price_transactions(client: ChainClient, signers: list[KeySigner]) -> None:
    sender = TxSender(client, signers[0], legacy=True, policy=FAST_POLICY)
    receipt = await sender.transfer_eth(signers[1].address, 1)
    tx = await client.request(lambda w3: w3.eth.get_transaction(receipt.tx_hash))  # type: ignore[arg-type]
    assert int(tx["type"]) == 0


async def test_concurrent_sends_use_consecutive_nonces(client: ChainClient, signers: list[KeySigner]) -> None:
    sender = TxSender(client, signers[0], policy=FAST_POLICY)
    start = await client.get_transaction_count(sender.address, "latest")

    receipts = await asyncio.gather(*(sender.transfer_eth(signers[2].address, i + 1) for i in range(8)))

    txs = [
        await client.request(lambda w3, h=r.tx_hash: w3.eth.get_transaction(h))  # type: ignore[misc]
        for r in receipts
    ]
    assert sorted(int(t["nonce"]) for t in txs) == list(range(start, start + 8))
    assert await client.get_transaction_count(sender.address, "latest") == start + 8


async def test_revert_at_estimation_is_raised_decoded_and_burns_no_nonce(
    client: ChainClient, signers: list[KeySigner]
) -> None:
    sender = TxSender(client, signers[0], policy=FAST_POLICY)
    contract = (await sender.deploy(ALWAYS_REVERTS, "deploying the test contract")).contract_address
    assert contract is not None
    nonce_before = await client.get_transaction_count(sender.address, "pending")

    with pytest.raises(ContractRevertError) as caught:
        await sender.send(contract, b"\x12\x34\x56\x78", purpose="opening a session")

    assert caught.value.error_name == "SessionTooShort"
    assert caught.value.user_message.startswith("opening a session failed: the session would last less than 5")
    assert await client.get_transaction_count(sender.address, "pending") == nonce_before
    await sender.transfer_eth(signers[1].address, 1)  # the next tx still goes through
    assert await client.get_transaction_count(sender.address, "latest") == nonce_before + 1


async def test_status_zero_receipt_becomes_the_decoded_revert(client: ChainClient, signers: list[KeySigner]) -> None:
    sender = TxSender(client, signers[0], policy=FAST_POLICY)
    contract = (await sender.deploy(ALWAYS_REVERTS, "deploying the test contract")).contract_address
    assert contract is not None

    with pytest.raises(ContractRevertError) as caught:
        await sender.send(contract, b"", purpose="closing a session", gas=100_000)  # skip estimation: mined, fails

    assert caught.value.error_name == "SessionTooShort"
    assert sender.pending() == []
    receipt = await sender.transfer_eth(signers[1].address, 1)
    assert receipt.block_number > 0


async def test_node_rejection_is_explained_and_the_nonce_resyncs(client: ChainClient, signers: list[KeySigner]) -> None:
    poor = TxSender(client, KeySigner.from_hex(THROWAWAY), policy=FAST_POLICY)

    with pytest.raises(TxRejectedError) as caught:
        await poor.transfer_eth(signers[1].address, 10**18)
    assert "not have enough ETH" in caught.value.user_message
    assert poor.nonces.cached_next is None
    assert poor.pending() == []

    await TxSender(client, signers[0], policy=FAST_POLICY).transfer_eth(poor.address, 10**18)
    await poor.transfer_eth(signers[1].address, 1)
    assert await client.get_transaction_count(poor.address, "latest") == 1


async def test_stuck_tx_is_fee_bumped_then_times_out_and_the_next_tx_gets_the_next_nonce(
    anvil_client: ChainClient, signers: list[KeySigner]
) -> None:
    client = anvil_client
    sender = TxSender(client, signers[0], policy=FAST_POLICY)
    nonce = await client.get_transaction_count(sender.address, "pending")
    await client.rpc("evm_setAutomine", [False])
    initial_fees = await sender.current_fees()

    with pytest.raises(TxTimeoutError) as caught:
        await sender.transfer_eth(signers[1].address, 5)

    error = caught.value
    assert error.nonce == nonce
    assert len(error.tx_hashes) == FAST_POLICY.max_attempts  # the original plus two +15 % replacements
    assert "not mined within 1.5 s" in error.user_message
    assert sender.pending() == []
    # The node's pool holds only the last replacement: same nonce, fees bumped twice by 15 %.
    last = await client.request(lambda w3: w3.eth.get_transaction(error.tx_hashes[-1]))  # type: ignore[arg-type]
    assert int(last["nonce"]) == nonce
    assert int(last["maxFeePerGas"]) == bump(bump(initial_fees)).max_fee

    await client.rpc("evm_setAutomine", [True])
    await client.rpc("evm_mine", [])
    receipt = await sender.transfer_eth(signers[1].address, 6)
    mined = await client.request(lambda w3: w3.eth.get_transaction(receipt.tx_hash))  # type: ignore[arg-type]
    assert int(mined["nonce"]) == nonce + 1


async def test_an_rpc_outage_while_waiting_does_not_lose_the_transaction(
    proxy: FlakyProxy, anvil_client: ChainClient, signers: list[KeySigner]
) -> None:
    slow_policy = EscalationPolicy(check_interval=30, max_attempts=1, total_timeout=20, poll_interval=0.05)
    async with ChainClient([proxy.url], expected_chain_id=31337, retries=1, backoff=0.01) as flaky:
        sender = TxSender(flaky, signers[0], policy=slow_policy)
        await anvil_client.rpc("evm_setAutomine", [False])
        task = asyncio.create_task(sender.transfer_eth(signers[1].address, 7))
        await eventually(lambda: len(sender.pending()) == 1)
        [tracked] = sender.pending()
        assert tracked.purpose.startswith("sending")

        proxy.down = True
        await eventually(lambda: proxy.refused > 3)  # the waiter keeps polling through the outage
        await anvil_client.rpc("evm_mine", [])
        proxy.down = False
        receipt = await asyncio.wait_for(task, 10)

    assert receipt.tx_hash == tracked.tx_hash
    assert sender.pending() == []
