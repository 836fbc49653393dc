"""A consumer node in its own process, for SIGKILL tests: prints progress lines the parent waits on, then is killed.

Usage: ``python -m tests.faults.sigkill_child <answer|tx> <rpc_url> <diamond> <token> <multicall> <key_index>
<data_dir> <bid_id>``. Lines: ``SESSION <id>``, ``TURN <n> DONE``, ``CHUNK <n>``, ``SENT <hash> <nonce>``.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from app.bootstrap.tx_journal import StorageTxJournal
from app.chain.client import ChainClient
from app.chain.diamond import Diamond
from app.chain.multicall import Multicall
from app.chain.token import MorToken
from app.chain.tx import EscalationPolicy, TxSender
from app.devnet.accounts import dev_private_keys
from app.router.consumer.failover import ChunkItem
from app.router.consumer.service import ConsumerService, ConsumerSettings
from app.storage.store import AsyncStorage
from app.wallet.signer import KeySigner
from tests.chain.conftest import eventually

SINK = "0x000000000000000000000000000000000000dEaD"
WAIT_FOREVER = EscalationPolicy(check_interval=600, max_attempts=1, total_timeout=600, poll_interval=0.1)


def say(line: str) -> None:
    print(line, flush=True)


async def answer(consumer: ConsumerService, bid_id: str) -> None:
    session = await consumer.open_session(bid_id=bid_id, duration_s=600, failover=False)
    say(f"SESSION {session.id}")
    async for _ in consumer.chat(prompt="first question", session_id=session.id):
        pass
    chats = await consumer.storage.run(consumer.storage.sync.chats.list_chats)
    chat_id = chats[0].id
    say("TURN 1 DONE")
    n = 0
    async for item in consumer.chat(prompt="second question", chat_id=chat_id, session_id=session.id):
        if isinstance(item, ChunkItem):
            n += 1
            say(f"CHUNK {n}")
    say("TURN 2 DONE")  # the parent kills us before this


async def transaction(sender: TxSender) -> None:
    sending = asyncio.ensure_future(sender.transfer_eth(SINK, 4242))
    await eventually(lambda: bool(sender.pending()))
    [pending] = sender.pending()
    say(f"SENT {pending.tx_hash} {pending.nonce}")
    await sending


async def main(mode: str, rpc_url: str, diamond: str, token: str, multicall: str, key_index: str, data_dir: str,
               bid_id: str) -> None:
    signer = KeySigner(dev_private_keys()[int(key_index)])
    storage = await AsyncStorage.open(Path(data_dir) / "node.sqlite3")
    async with ChainClient([rpc_url], backoff=0.05) as client:
        sender = TxSender(client, signer, policy=WAIT_FOREVER, journal=StorageTxJournal(storage))  # as Services
        chain_diamond = Diamond(client, diamond, sender, Multicall(client, multicall))
        consumer = ConsumerService(signer, chain_diamond, MorToken(client, token, sender), client, storage,
                                   settings=ConsumerSettings(first_message_timeout_s=10))
        if mode == "answer":
            await answer(consumer, bid_id)
        else:
            await transaction(sender)
    await storage.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:]))
