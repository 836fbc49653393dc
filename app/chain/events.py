"""Log watcher: yields decoded SessionOpened/SessionClosed events involving an address, surviving RPC outages."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from eth_abi.abi import encode

from app.chain import diamond_abi as abi
from app.chain.client import ChainClient
from app.chain.receipts import DecodedEvent, decode_log
from app.errors import ChainError

log = logging.getLogger(__name__)

SESSION_EVENTS = (abi.SESSION_OPENED, abi.SESSION_CLOSED)


def _topic(address: str) -> str:
    return "0x" + encode(["address"], [address]).hex()


class SessionEventWatcher:
    """Polls ``eth_getLogs`` every ``interval`` seconds for session events where ``address`` is user or provider.

    Polling (the Go node's default, ``ETH_NODE_POLLING_INTERVAL``) works with every RPC, HTTP or WebSocket. An
    RPC outage is logged and retried on the next tick; no block is skipped, because the cursor only advances
    after a successful read.
    """

    def __init__(
        self,
        client: ChainClient,
        diamond: str,
        address: str | None,
        *,
        interval: float = 10.0,
        from_block: int | None = None,
        max_range: int = 2000,
    ) -> None:
        self.client = client
        self.diamond = diamond
        self.address = address
        self.interval = interval
        self.max_range = max_range
        self.next_block = from_block
        self.last_error: str | None = None

    def _filters(self, start: int, end: int) -> Sequence[dict[str, Any]]:
        topic0 = ["0x" + e.topic0.hex() for e in SESSION_EVENTS]
        base = {"address": self.diamond, "fromBlock": start, "toBlock": end}
        if self.address is None:
            return [{**base, "topics": [topic0]}]
        who = _topic(self.address)
        # user is topic1, provider topic3: two queries, since one filter cannot OR across positions.
        return [{**base, "topics": [topic0, who]}, {**base, "topics": [topic0, None, None, who]}]

    async def poll(self) -> list[DecodedEvent]:
        """One poll: every matching event since the last successful one, oldest first."""
        latest = await self.client.block_number()
        if self.next_block is None:
            self.next_block = latest + 1
            return []
        found: dict[tuple[int, int], DecodedEvent] = {}
        while self.next_block <= latest:
            end = min(latest, self.next_block + self.max_range - 1)
            for params in self._filters(self.next_block, end):
                for entry in await self.client.get_logs(params):
                    event = decode_log(entry)
                    if event is not None:
                        found[(event.block_number, event.log_index)] = event
            self.next_block = end + 1
        return [found[k] for k in sorted(found)]

    async def events(self) -> AsyncIterator[DecodedEvent]:
        """Yield events forever (cancel the consuming task to stop)."""
        while True:
            try:
                batch = await self.poll()
            except ChainError as e:
                if self.last_error != e.user_message:
                    log.warning("session event watcher: %s (will retry)", e.user_message)
                self.last_error = e.user_message
                batch = []
            else:
                self.last_error = None
            for event in batch:
                yield event
            await asyncio.sleep(self.interval)
