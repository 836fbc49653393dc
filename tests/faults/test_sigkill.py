"""The app is SIGKILLed mid-answer and mid-transaction; on restart on the same data folder and chain nothing
committed is lost, the database is sound, open sessions come back from the chain, the transaction is finished."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from app.bootstrap.tx_journal import StorageTxJournal
from app.chain.tx import TxSender
from app.chain.tx_recovery import RecoveredTransaction, resume_pending
from app.router.consumer.service import ConsumerService
from app.storage.store import AsyncStorage
from tests.chain.conftest import FAST_POLICY, eventually
from tests.chain.protocol_env import MOR
from tests.faults.market import FaultMarket
from tests.faults.sigkill_child import SINK
from tests.router.consumer.consumer_env import party
from tests.support.openai_backend import Behaviour

pytestmark = pytest.mark.asyncio(loop_scope="module")

ROOT = Path(__file__).resolve().parents[2]
USER_INDEX = 7  # a dev account of its own, so the module's consumer (dev #2) is not disturbed
SLOW = Behaviour(tokens=[f"t{i} " for i in range(80)], token_delay=0.02)


@asynccontextmanager
async def child(market: FaultMarket, mode: str, data_dir: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    a = market.providers[0]
    addresses = market.protocol.addresses
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.faults.sigkill_child", mode, market.client.url, addresses.diamond,
        addresses.token, addresses.multicall, str(USER_INDEX), str(data_dir), a.bid_hex,
        cwd=ROOT, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
        await process.wait()


async def read_until(process: asyncio.subprocess.Process, prefix: str, within: float = 30.0) -> str:
    assert process.stdout is not None
    async with asyncio.timeout(within):
        while True:
            line = (await process.stdout.readline()).decode()
            if not line:
                assert process.stderr is not None
                raise AssertionError(f"child ended before {prefix!r}: {(await process.stderr.read()).decode()}")
            if line.startswith(prefix):
                return line.strip()


def kill(process: asyncio.subprocess.Process) -> None:
    os.kill(process.pid, signal.SIGKILL)


def integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


async def _funded_user(market: FaultMarket) -> None:
    user = party(market.client, USER_INDEX, market.protocol)
    if await user.token.balance_of(user.address) < 100 * MOR:
        await market.protocol.owner.token.transfer(user.address, 500 * MOR)


async def test_killed_mid_answer_keeps_committed_messages_and_rehydrates_the_session(
    market: FaultMarket, tmp_path: Path
) -> None:
    await _funded_user(market)
    market.providers[0].backend.behaviour = SLOW
    async with child(market, "answer", tmp_path) as process:
        session_id = (await read_until(process, "SESSION")).split()[1]
        await read_until(process, "TURN 1 DONE")
        await read_until(process, "CHUNK 4")
        kill(process)
        await process.wait()
    assert process.returncode == -signal.SIGKILL

    db = tmp_path / "node.sqlite3"
    assert await asyncio.to_thread(integrity, db) == "ok"
    storage = await AsyncStorage.open(db)
    user = party(market.client, USER_INDEX, market.protocol)
    consumer = ConsumerService(user.signer, user.diamond, user.token, market.client, storage)
    try:
        [chat] = await storage.run(storage.sync.chats.list_chats)
        messages = await storage.run(storage.sync.chats.messages, chat.id)
        full = "".join(SLOW.tokens)
        assert [(m.role, m.content) for m in messages] == [
            ("user", "first question"), ("assistant", full), ("user", "second question")]
        assert await consumer.start(expiry_interval_s=3600) >= 1  # open sessions found on chain
        assert session_id in [s.id for s in await consumer.sessions()]
    finally:
        await consumer.stop()
        await storage.close()


async def _killed_mid_transaction(market: FaultMarket, data_dir: Path) -> tuple[str, int]:
    await market.client.rpc("evm_setAutomine", [False])
    try:
        async with child(market, "tx", data_dir) as process:
            _, tx_hash, nonce = (await read_until(process, "SENT")).split()
            kill(process)
            await process.wait()
    except BaseException:
        await market.client.rpc("evm_setAutomine", [True])
        raise
    return tx_hash, int(nonce)


async def test_killed_mid_transaction_the_tx_is_finished_and_nonces_continue(
    market: FaultMarket, tmp_path: Path
) -> None:
    await _funded_user(market)
    tx_hash, nonce = await _killed_mid_transaction(market, tmp_path)
    try:
        assert (await market.client.rpc("eth_getTransactionByHash", [tx_hash]))["nonce"] == hex(nonce)
    finally:
        await market.client.rpc("evm_setAutomine", [True])
    await market.client.rpc("evm_mine", [])

    assert await asyncio.to_thread(integrity, tmp_path / "node.sqlite3") == "ok"
    receipt = await market.client.get_transaction_receipt(tx_hash)
    assert receipt is not None and int(str(receipt["status"]), 16) == 1
    user = party(market.client, USER_INDEX, market.protocol)
    restarted = TxSender(market.client, user.signer, policy=FAST_POLICY)
    follow_up = await restarted.transfer_eth(SINK, 1)
    mined = await market.client.rpc("eth_getTransactionByHash", [follow_up.tx_hash])
    assert int(mined["nonce"], 16) == nonce + 1


async def test_killed_mid_transaction_the_restarted_app_finds_the_pending_tx_by_hash_and_finishes_it(
    market: FaultMarket, tmp_path: Path
) -> None:
    await _funded_user(market)
    tx_hash, nonce = await _killed_mid_transaction(market, tmp_path)  # still in the pool: auto-mining is off
    storage = await AsyncStorage.open(tmp_path / "node.sqlite3")
    try:
        try:
            journal = await storage.run(storage.sync.pending_txs.pending)
            assert tx_hash.lower() in [t.hash for t in journal]

            user = party(market.client, USER_INDEX, market.protocol)
            restarted = TxSender(market.client, user.signer, policy=FAST_POLICY, journal=StorageTxJournal(storage))
            events: list[RecoveredTransaction] = []
            resuming = asyncio.ensure_future(resume_pending(restarted, wait_s=30, publish=events.append))
            await eventually(lambda: bool(events))
            assert (events[0].outcome, events[0].tx_hash) == ("waiting", tx_hash.lower())
            follow_up = asyncio.ensure_future(restarted.transfer_eth(SINK, 1))
            await eventually(lambda: any(p.nonce == nonce + 1 for p in restarted.pending()))
        finally:
            await market.client.rpc("evm_setAutomine", [True])
        await market.client.rpc("evm_mine", [])
        [outcome] = await asyncio.wait_for(resuming, 10)
        receipt = await asyncio.wait_for(follow_up, 10)

        assert outcome.outcome == "mined" and "found and finished" in outcome.message
        row = await storage.run(storage.sync.pending_txs.get, tx_hash)
        assert row is not None and row.state == "mined"
        mined = await market.client.rpc("eth_getTransactionByHash", [receipt.tx_hash])
        assert int(mined["nonce"], 16) == nonce + 1
    finally:
        await storage.close()
