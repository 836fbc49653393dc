"""This wallet's transaction history from chain logs: MOR transfers in and out, sessions opened and closed."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from eth_abi.abi import encode

from app.bootstrap.services import Services
from app.chain import diamond_abi as abi
from app.chain.receipts import DecodedEvent, decode_log
from app.errors import ChainError
from app.gui.formatting import amount

HISTORY_BLOCKS = 50_000  # how far back to look: public RPCs refuse unbounded log ranges
CHUNK_BLOCKS = 10_000


@dataclass(frozen=True)
class HistoryEntry:
    """One line of history, newest first in lists."""

    block: int
    tx_hash: str
    what: str
    amount: str


def _topic(address: str) -> str:
    return "0x" + encode(["address"], [address]).hex()


def _describe(event: DecodedEvent, address: str) -> HistoryEntry | None:
    me = address.lower()
    args = event.args
    if event.name == "Transfer":
        sent = str(args["from"]).lower() == me
        other = args["to"] if sent else args["from"]
        what = f"sent to {other}" if sent else f"received from {other}"
        sign = "−" if sent else "+"
        return HistoryEntry(event.block_number, event.tx_hash, what, f"{sign}{amount(int(args['value']), 'MOR', 6)}")
    if event.name in ("SessionOpened", "SessionClosed"):
        verb = "opened" if event.name == "SessionOpened" else "closed"
        session = "0x" + bytes(args["sessionId"]).hex()[:10]
        return HistoryEntry(event.block_number, event.tx_hash, f"session {verb} {session}…", "")
    return None


async def load_history(services: Services, address: str, limit: int = 100) -> list[HistoryEntry]:
    """MOR transfers and session events of ``address`` over the last ``HISTORY_BLOCKS`` blocks, newest first."""
    if services.chain is None or services.network is None:
        raise ChainError("The chain is not connected yet; history will load once it is.")
    chain, network = services.chain, services.network
    latest = await chain.block_number()
    who = _topic(address)
    topic_transfer = "0x" + next(e for e in abi.EVENTS if e.name == "Transfer").topic0.hex()
    session_topics = ["0x" + e.topic0.hex() for e in abi.EVENTS if e.name in ("SessionOpened", "SessionClosed")]
    start = max(latest - HISTORY_BLOCKS, 0)
    filters: list[dict[str, Any]] = []
    for lo in range(start, latest + 1, CHUNK_BLOCKS):
        hi = min(lo + CHUNK_BLOCKS - 1, latest)
        span = {"fromBlock": lo, "toBlock": hi}
        filters += [
            {**span, "address": network.mor, "topics": [topic_transfer, who]},
            {**span, "address": network.mor, "topics": [topic_transfer, None, who]},
            {**span, "address": network.diamond, "topics": [session_topics, who]},
        ]
    batches = await asyncio.gather(*(chain.get_logs(f) for f in filters))
    seen: dict[tuple[int, int], HistoryEntry] = {}
    for batch in batches:
        for raw in batch:
            event = decode_log(raw)
            entry = _describe(event, address) if event is not None else None
            if event is not None and entry is not None:
                seen[(event.block_number, event.log_index)] = entry
    return [seen[k] for k in sorted(seen, reverse=True)][:limit]
