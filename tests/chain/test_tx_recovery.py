"""Pending transactions survive a crash: TxSender journals every version it sends, and a restarted sender finds
each journaled transaction on a real chain and settles it (mined, dropped, or awaited with its nonce held)."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from eth_utils.crypto import keccak

from app.bootstrap.tx_journal import StorageTxJournal
from app.chain.client import ChainClient
from app.chain.errors import TxRejectedError
from app.chain.nonce import NonceManager
from app.chain.raw_tx import decode_signed_tx
from app.chain.tx import EscalationPolicy, TxSender
from app.chain.tx_recovery import RecoveredTransaction, resume_pending
from app.errors import WalletError
from app.storage.store import AsyncStorage
from app.wallet.signer import KeySigner
from tests.chain.conftest import FAST_POLICY, eventually

SINK = "0x000000000000000000000000000000000000dEaD"
THROWAWAY = "0x" + "22" * 32  # a key with no funds
# Waits long enough for a test to act on a stuck tx before it times out; bumps every 0.3 s.
BUMPING = EscalationPolicy(check_interval=0.3, max_attempts=3, total_timeout=20, poll_interval=0.05)


@pytest.fixture
async def storage(tmp_path: Path) -> AsyncIterator[AsyncStorage]:
    store = await AsyncStorage.open(tmp_path / "node.sqlite3")
    try:
        yield store
    finally:
        await store.close()


async def _row_state(storage: AsyncStorage, tx_hash: str) -> str | None:
    row = await storage.run(storage.sync.pending_txs.get, tx_hash)
    return row.state if row else None


async def _crash_mid_wait(client: ChainClient, signer: KeySigner, storage: AsyncStorage) -> tuple[str, int]:
    """Send with auto-mining off, then cancel the sender as a crash would: (hash, nonce) left in the pool."""
    await client.rpc("evm_setAutomine", [False])
    doomed = TxSender(client, signer, policy=BUMPING, journal=StorageTxJournal(storage))
    task = asyncio.create_task(doomed.transfer_eth(SINK, 4242))
    await eventually(lambda: bool(doomed.pending()))
    [pending] = doomed.pending()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    return pending.tx_hash, pending.nonce


def _restarted(client: ChainClient, signer: KeySigner, storage: AsyncStorage) -> TxSender:
    return TxSender(client, signer, policy=FAST_POLICY, journal=StorageTxJournal(storage))


async def test_a_sent_tx_is_journaled_with_sender_and_chain_then_marked_mined(
    anvil_client: ChainClient, signers: list[KeySigner], storage: AsyncStorage
) -> None:
    sender = _restarted(anvil_client, signers[0], storage)
    receipt = await sender.transfer_eth(SINK, 1)

    row = await storage.run(storage.sync.pending_txs.get, receipt.tx_hash)
    assert row is not None
    assert (row.state, row.sender, row.chain_id, row.purpose) == (
        "mined", signers[0].address.lower(), anvil_client.chain_id, "sending 0.000000000000000001 ETH")
    assert row.raw is not None and "0x" + keccak(row.raw).hex() == receipt.tx_hash  # the exact bytes broadcast
    assert await storage.run(storage.sync.pending_txs.pending) == []


async def test_every_fee_bump_is_journaled_and_the_losing_versions_are_marked_replaced(
    anvil_client: ChainClient, signers: list[KeySigner], storage: AsyncStorage
) -> None:
    client = anvil_client
    sender = TxSender(client, signers[0], policy=BUMPING, journal=StorageTxJournal(storage))
    await client.rpc("evm_setAutomine", [False])
    task = asyncio.create_task(sender.transfer_eth(SINK, 5))
    await eventually(lambda: bool(sender.pending()) and len(sender.pending()[0].hashes) == 3)
    hashes = list(sender.pending()[0].hashes)
    journaled = await storage.run(storage.sync.pending_txs.pending)
    assert [t.hash for t in journaled] == hashes  # each version written before it was broadcast

    await client.rpc("evm_mine", [])
    receipt = await asyncio.wait_for(task, 10)
    await client.rpc("evm_setAutomine", [True])

    assert receipt.tx_hash == hashes[-1]
    assert [await _row_state(storage, h) for h in hashes] == ["replaced", "replaced", "mined"]


async def test_a_rejected_broadcast_is_journaled_as_dropped(
    anvil_client: ChainClient, storage: AsyncStorage
) -> None:
    poor = TxSender(anvil_client, KeySigner.from_hex(THROWAWAY), policy=FAST_POLICY,
                    journal=StorageTxJournal(storage))
    with pytest.raises(TxRejectedError):
        await poor.transfer_eth(SINK, 10**18)

    with sqlite3.connect(storage.sync.path) as conn:
        rows = conn.execute("SELECT nonce, state FROM pending_transactions").fetchall()
    assert rows == [(0, "dropped")]


async def test_after_a_crash_a_mined_tx_is_found_marked_and_reported(
    anvil_client: ChainClient, signers: list[KeySigner], storage: AsyncStorage
) -> None:
    client = anvil_client
    tx_hash, nonce = await _crash_mid_wait(client, signers[0], storage)
    await client.rpc("evm_setAutomine", [True])
    await client.rpc("evm_mine", [])
    events: list[RecoveredTransaction] = []

    sender = _restarted(client, signers[0], storage)
    [outcome] = await resume_pending(sender, publish=events.append)

    assert (outcome.tx_hash, outcome.nonce, outcome.outcome) == (tx_hash, nonce, "mined")
    assert "was found and finished" in outcome.message
    assert events == [outcome]
    assert await _row_state(storage, tx_hash) == "mined"
    follow_up = await sender.transfer_eth(SINK, 1)
    mined = await client.rpc("eth_getTransactionByHash", [follow_up.tx_hash])
    assert int(mined["nonce"], 16) == nonce + 1


async def test_after_a_crash_a_still_pending_tx_is_awaited_and_the_next_send_takes_the_next_nonce(
    anvil_client: ChainClient, signers: list[KeySigner], storage: AsyncStorage
) -> None:
    client = anvil_client
    tx_hash, nonce = await _crash_mid_wait(client, signers[0], storage)
    events: list[RecoveredTransaction] = []
    sender = _restarted(client, signers[0], storage)
    resuming = asyncio.create_task(resume_pending(sender, wait_s=20, publish=events.append))
    await eventually(lambda: bool(events))
    assert events[0].outcome == "waiting"
    assert [(p.nonce, p.tx_hash) for p in sender.pending()] == [(nonce, tx_hash)]

    follow_up = asyncio.create_task(sender.transfer_eth(SINK, 1))
    await eventually(lambda: any(p.nonce == nonce + 1 for p in sender.pending()))
    await client.rpc("evm_mine", [])
    [outcome] = await asyncio.wait_for(resuming, 10)
    await client.rpc("evm_setAutomine", [True])
    receipt = await asyncio.wait_for(follow_up, 10)

    assert (outcome.outcome, outcome.tx_hash) == ("mined", tx_hash)
    assert [e.outcome for e in events] == ["waiting", "mined"]
    assert await _row_state(storage, tx_hash) == "mined"
    assert int((await client.rpc("eth_getTransactionByHash", [receipt.tx_hash]))["nonce"], 16) == nonce + 1
    assert sender.pending() == []


async def test_after_a_crash_a_lost_tx_journaled_without_raw_bytes_is_reported_dropped_and_its_nonce_reused(
    anvil_client: ChainClient, signers: list[KeySigner], storage: AsyncStorage
) -> None:
    client = anvil_client
    tx_hash, nonce = await _crash_mid_wait(client, signers[0], storage)
    await client.rpc("anvil_dropTransaction", [tx_hash])
    with sqlite3.connect(storage.sync.path) as conn:  # as an app from before schema v4 journaled it
        conn.execute("UPDATE pending_transactions SET raw = NULL")
    await client.rpc("evm_setAutomine", [True])
    events: list[RecoveredTransaction] = []

    sender = _restarted(client, signers[0], storage)
    [outcome] = await resume_pending(sender, publish=events.append)

    assert (outcome.outcome, outcome.tx_hash) == ("dropped", tx_hash)
    assert "dropped by the network" in outcome.message and "do it again" in outcome.message
    assert events == [outcome]
    assert await _row_state(storage, tx_hash) == "dropped"
    receipt = await sender.transfer_eth(SINK, 1)
    assert int((await client.rpc("eth_getTransactionByHash", [receipt.tx_hash]))["nonce"], 16) == nonce


async def test_a_tx_still_pending_when_the_bounded_wait_ends_stays_journaled_for_the_next_start(
    anvil_client: ChainClient, signers: list[KeySigner], storage: AsyncStorage
) -> None:
    client = anvil_client
    tx_hash, nonce = await _crash_mid_wait(client, signers[0], storage)
    sender = _restarted(client, signers[0], storage)
    try:
        [outcome] = await resume_pending(sender, wait_s=0.3)
    finally:
        await client.rpc("evm_setAutomine", [True])
        await client.rpc("evm_mine", [])

    assert (outcome.outcome, outcome.nonce) == ("unresolved", nonce)
    assert "at the next start" in outcome.message
    assert await _row_state(storage, tx_hash) == "pending"
    assert sender.pending() == []
    assert [o.outcome for o in await resume_pending(sender)] == ["mined"]  # the next start settles it


async def test_only_this_wallets_transactions_on_this_chain_are_resumed(
    anvil_client: ChainClient, signers: list[KeySigner], storage: AsyncStorage
) -> None:
    await storage.run(storage.sync.pending_txs.add, "0x" + "ab" * 32, 0, "other chain",
                      sender=signers[0].address, chain_id=anvil_client.chain_id + 1)
    await storage.run(storage.sync.pending_txs.add, "0x" + "cd" * 32, 0, "other wallet",
                      sender=signers[1].address, chain_id=anvil_client.chain_id)
    assert await resume_pending(_restarted(anvil_client, signers[0], storage)) == []
    assert len(await storage.run(storage.sync.pending_txs.pending)) == 2


async def test_a_held_nonce_is_skipped_even_by_a_node_that_does_not_count_it_and_is_freed_on_release() -> None:
    async def node_pending_count() -> int:
        return 5  # a load-balanced RPC whose pool never saw our recovered tx

    nonces = NonceManager(node_pending_count)
    nonces.hold(5)
    async with nonces.reserve() as nonce:
        assert nonce == 6
    nonces.release(5)
    async with nonces.reserve() as nonce:
        assert nonce == 5


async def _txs_at_nonce(client: ChainClient, sender: str, nonce: int) -> list[str]:
    """Hashes of every mined transaction from ``sender`` with ``nonce`` (a scan of the whole, short, devnet chain)."""
    found = []
    for number in range(int(await client.rpc("eth_blockNumber", []), 16) + 1):
        block = await client.rpc("eth_getBlockByNumber", [hex(number), True])
        found += [tx["hash"] for tx in block["transactions"]
                  if tx["from"].lower() == sender.lower() and int(tx["nonce"], 16) == nonce]
    return found


async def test_after_a_crash_a_tx_the_node_lost_is_rebroadcast_byte_for_byte_and_mined_exactly_once(
    anvil_client: ChainClient, signers: list[KeySigner], storage: AsyncStorage
) -> None:
    client = anvil_client
    tx_hash, nonce = await _crash_mid_wait(client, signers[0], storage)
    await client.rpc("anvil_dropTransaction", [tx_hash])
    assert await client.rpc("eth_getTransactionByHash", [tx_hash]) is None
    await client.rpc("evm_setAutomine", [True])
    events: list[RecoveredTransaction] = []

    sender = _restarted(client, signers[0], storage)
    [outcome] = await resume_pending(sender, publish=events.append)

    assert (outcome.outcome, outcome.tx_hash) == ("mined", tx_hash)
    assert [(e.outcome, e.tx_hash) for e in events] == [("resent", tx_hash), ("mined", tx_hash)]
    assert "sent the same signed transaction again" in events[0].message
    assert await _txs_at_nonce(client, signers[0].address, nonce) == [tx_hash]
    assert await _row_state(storage, tx_hash) == "mined"
    follow_up = await sender.transfer_eth(SINK, 1)
    assert int((await client.rpc("eth_getTransactionByHash", [follow_up.tx_hash]))["nonce"], 16) == nonce + 1


async def test_a_lost_tx_whose_nonce_another_tx_used_is_marked_replaced_and_never_rebroadcast(
    anvil_client: ChainClient, signers: list[KeySigner], storage: AsyncStorage
) -> None:
    client = anvil_client
    tx_hash, nonce = await _crash_mid_wait(client, signers[0], storage)
    await client.rpc("anvil_dropTransaction", [tx_hash])
    await client.rpc("evm_setAutomine", [True])
    elsewhere = TxSender(client, signers[0], policy=FAST_POLICY)  # the same key used by another app, no journal
    other = await elsewhere.transfer_eth(SINK, 7)

    [outcome] = await resume_pending(_restarted(client, signers[0], storage))

    assert (outcome.outcome, outcome.tx_hash) == ("replaced", tx_hash)
    assert "another transaction with the same nonce" in outcome.message and "do it again" in outcome.message
    assert await _row_state(storage, tx_hash) == "replaced"
    assert await _txs_at_nonce(client, signers[0].address, nonce) == [other.tx_hash]


async def test_a_lost_tx_the_node_refuses_to_take_again_is_dropped_with_the_nodes_reason(
    anvil_client: ChainClient, signers: list[KeySigner], storage: AsyncStorage
) -> None:
    client = anvil_client
    tx_hash, nonce = await _crash_mid_wait(client, signers[0], storage)
    await client.rpc("anvil_dropTransaction", [tx_hash])
    await client.rpc("evm_setAutomine", [True])
    await client.rpc("anvil_setBalance", [signers[0].address, "0x0"])  # it can no longer pay for its gas

    [outcome] = await resume_pending(_restarted(client, signers[0], storage))

    assert (outcome.outcome, outcome.nonce) == ("dropped", nonce)
    assert "refused it when the app sent it again" in outcome.message and "funds" in outcome.message.lower()
    assert await _row_state(storage, tx_hash) == "dropped"
    assert await _txs_at_nonce(client, signers[0].address, nonce) == []


class _LockedSigner:
    """The wallet's address without its key, as a locked wallet: signing fails with the wallet's own advice."""

    def __init__(self, address: str) -> None:
        self.address = address

    def sign_transaction(self, tx: dict[str, object]) -> bytes:
        raise WalletError("The wallet is locked. Unlock it with your app password.")


async def _price_out(client: ChainClient, storage: AsyncStorage, tx_hash: str) -> None:
    """Make the next block's base fee exceed the journaled tx's fee cap (by less than one 15 % bump)."""
    row = await storage.run(storage.sync.pending_txs.get, tx_hash)
    assert row is not None and row.raw is not None
    await client.rpc("anvil_setNextBlockBaseFeePerGas", [hex(decode_signed_tx(row.raw).fees.cap + 1)])


async def _journal_rows(storage: AsyncStorage) -> list[tuple[str, int, str]]:
    with sqlite3.connect(storage.sync.path) as conn:
        return conn.execute("SELECT hash, nonce, state FROM pending_transactions ORDER BY created").fetchall()


async def test_after_a_crash_a_stuck_tx_is_fee_bumped_the_bump_is_mined_and_the_original_marked_replaced(
    anvil_client: ChainClient, signers: list[KeySigner], storage: AsyncStorage
) -> None:
    client = anvil_client
    tx_hash, nonce = await _crash_mid_wait(client, signers[0], storage)
    await _price_out(client, storage, tx_hash)
    events: list[RecoveredTransaction] = []
    sender = TxSender(client, signers[0], policy=BUMPING, journal=StorageTxJournal(storage))
    resuming = asyncio.create_task(resume_pending(sender, publish=events.append))
    await eventually(lambda: any(e.outcome == "bumped" for e in events))
    await client.rpc("evm_mine", [])  # at the raised base fee: only a bumped version is includable
    [outcome] = await asyncio.wait_for(resuming, 10)
    await client.rpc("evm_setAutomine", [True])

    bumps = [e.tx_hash for e in events if e.outcome == "bumped"]
    assert events[0].outcome == "waiting" and "raises its fee if it stays stuck" in events[0].message
    assert outcome.outcome == "mined" and outcome.tx_hash in bumps
    assert await _txs_at_nonce(client, signers[0].address, nonce) == [outcome.tx_hash]
    rows = await _journal_rows(storage)
    # Each bump was journaled (same nonce) before it went out; every version but the mined one is "replaced".
    assert [h for h, _, _ in rows] == [tx_hash, *bumps]
    assert {n for _, n, _ in rows} == {nonce}
    assert [s for h, _, s in rows if h != outcome.tx_hash] == ["replaced"] * len(bumps)
    follow_up = await sender.transfer_eth(SINK, 1)
    assert int((await client.rpc("eth_getTransactionByHash", [follow_up.tx_hash]))["nonce"], 16) == nonce + 1


async def test_a_lost_tx_the_node_refuses_as_too_cheap_is_fee_bumped_at_once_and_mined(
    anvil_client: ChainClient, signers: list[KeySigner], storage: AsyncStorage
) -> None:
    client = anvil_client
    tx_hash, nonce = await _crash_mid_wait(client, signers[0], storage)
    await _price_out(client, storage, tx_hash)
    await client.rpc("evm_mine", [])  # anvil evicts a tx priced out of the block from its pool
    assert await client.rpc("eth_getTransactionByHash", [tx_hash]) is None
    await _price_out(client, storage, tx_hash)  # the empty block lowered the base fee again
    await client.rpc("evm_setAutomine", [True])
    events: list[RecoveredTransaction] = []

    sender = TxSender(client, signers[0], policy=BUMPING, journal=StorageTxJournal(storage))
    [outcome] = await resume_pending(sender, publish=events.append)

    [bump] = [e.tx_hash for e in events if e.outcome == "bumped"]
    assert (outcome.outcome, outcome.tx_hash) == ("mined", bump)
    assert await _txs_at_nonce(client, signers[0].address, nonce) == [bump]
    assert [(h, s) for h, _, s in await _journal_rows(storage)] == [(tx_hash, "replaced"), (bump, "mined")]


async def test_recovery_sends_no_more_versions_than_the_fee_policy_allows_in_all(
    anvil_client: ChainClient, signers: list[KeySigner], storage: AsyncStorage
) -> None:
    client = anvil_client
    tx_hash, nonce = await _crash_mid_wait(client, signers[0], storage)
    sender = TxSender(client, signers[0], policy=BUMPING, journal=StorageTxJournal(storage))
    try:
        [outcome] = await resume_pending(sender, wait_s=1.5)  # five bump intervals
    finally:
        await client.rpc("evm_setAutomine", [True])
        await client.rpc("evm_mine", [])

    rows = await _journal_rows(storage)
    assert outcome.outcome == "unresolved"
    assert len(rows) == BUMPING.max_attempts  # the original and two bumps
    assert rows[0][0] == tx_hash and {n for _, n, _ in rows} == {nonce}


async def test_a_stuck_tx_with_a_locked_wallet_is_awaited_without_a_bump_and_the_user_is_told_why(
    anvil_client: ChainClient, signers: list[KeySigner], storage: AsyncStorage
) -> None:
    client = anvil_client
    tx_hash, nonce = await _crash_mid_wait(client, signers[0], storage)
    events: list[RecoveredTransaction] = []
    locked = TxSender(client, _LockedSigner(signers[0].address), policy=BUMPING,  # type: ignore[arg-type]
                      journal=StorageTxJournal(storage))
    resuming = asyncio.create_task(resume_pending(locked, publish=events.append))
    await eventually(lambda: any("cannot be raised" in e.message for e in events))
    await client.rpc("evm_mine", [])
    [outcome] = await asyncio.wait_for(resuming, 10)
    await client.rpc("evm_setAutomine", [True])

    [why] = [e for e in events if "cannot be raised" in e.message]
    assert why.outcome == "waiting" and "The wallet is locked. Unlock it" in why.message
    assert (outcome.outcome, outcome.tx_hash, outcome.nonce) == ("mined", tx_hash, nonce)
    assert [t.hash for t in await storage.run(storage.sync.pending_txs.pending)] == []
    assert await _row_state(storage, tx_hash) == "mined"
