"""Log watcher: yields decoded SessionOpened/SessionClosed events involving an address, surviving RPC outages.

Polling by default; with ``use_subscriptions`` (ETH_NODE_USE_SUBSCRIPTIONS) logs are pushed over a WebSocket
``eth_subscribe``; when the subscription fails or drops the watcher polls and retries the subscription with backoff.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from typing import Any

from eth_abi.abi import encode

from app.chain import diamond_abi as abi
from app.chain.client import ChainClient
from app.chain.log_subscription import LogSubscription, ws_url_for
from app.chain.receipts import DecodedEvent, decode_log
from app.errors import ChainError

log = logging.getLogger(__name__)

SESSION_EVENTS = (abi.SESSION_OPENED, abi.SESSION_CLOSED)


def _topic(address: str) -> str:
    return "0x" + encode(["address"], [address]).hex()


class SessionEventWatcher:
    """Watches session events where ``address`` is user or provider (every event when ``address`` is None).

    Polling ``eth_getLogs`` every ``interval`` seconds (the Go node's default, ``ETH_NODE_POLLING_INTERVAL``) works
    with every RPC, HTTP or WebSocket. An RPC outage is logged and retried on the next tick; no block is skipped,
    because the cursor only advances after a successful read. With ``use_subscriptions`` the node pushes the logs
    over ``ws_url`` (default: the client's URL as ws://, where anvil and geth serve it); the blocks before the
    subscription are read once by polling, and when the subscription fails the watcher polls from the block of the
    last pushed event on, so nothing is lost or delivered twice. While polling it retries the subscription after
    ``resubscribe_backoff`` seconds, doubling up to ``resubscribe_backoff_max`` while it keeps failing; a retry that
    succeeds reads the blocks since the last poll once (the same handover as at start) and stops polling. ``mode``
    says which is in use and ``fallback_reason`` why the subscription is down (None while subscribed).
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
        use_subscriptions: bool = False,
        ws_url: str | None = None,
        resubscribe_backoff: float = 5.0,
        resubscribe_backoff_max: float = 300.0,
    ) -> None:
        self.client = client
        self.diamond = diamond
        self.address = address
        self.interval = interval
        self.max_range = max_range
        self.next_block = from_block
        self.last_error: str | None = None
        self.use_subscriptions = use_subscriptions
        self.ws_url = ws_url
        self.mode = "subscription" if use_subscriptions else "polling"
        self.fallback_reason: str | None = None  # why a subscription gave way to polling
        self.resubscribe_backoff = resubscribe_backoff
        self.resubscribe_backoff_max = resubscribe_backoff_max
        self._next_poll_at = 0.0  # loop time of the next fallback poll (kept across failed resubscribe attempts)
        self._was_subscribed = False  # whether the last subscription attempt subscribed and caught up
        self._delivered: set[tuple[int, int]] = set()  # events of block ``next_block - 1`` already yielded

    def _filters(self, start: int | None = None, end: int | None = None) -> Sequence[dict[str, Any]]:
        topic0 = ["0x" + e.topic0.hex() for e in SESSION_EVENTS]
        base: dict[str, Any] = {"address": self.diamond}
        if start is not None:
            base.update(fromBlock=start, toBlock=end)
        if self.address is None:
            return [{**base, "topics": [topic0]}]
        who = _topic(self.address)
        # user is topic1, provider topic3: two queries, since one filter cannot OR across positions.
        return [{**base, "topics": [topic0, who]}, {**base, "topics": [topic0, None, None, who]}]

    def _fresh(self, event: DecodedEvent) -> bool:
        """Whether ``event`` was not yielded yet; advances the cursor past its block."""
        key = (event.block_number, event.log_index)
        if self.next_block is not None and event.block_number < self.next_block - 1:
            return False
        if self.next_block is None or event.block_number >= self.next_block:
            self.next_block = event.block_number + 1
            self._delivered.clear()
        if key in self._delivered:
            return False
        self._delivered.add(key)
        return True

    async def poll(self) -> list[DecodedEvent]:
        """One poll: every matching event since the last successful one, oldest first."""
        latest = await self.client.block_number()
        if self.next_block is None:
            self.next_block = latest + 1
            return []
        found: dict[tuple[int, int], DecodedEvent] = {}
        # Start at the last delivered block again when a subscription left it: it may have pushed only part of it.
        start = self.next_block - 1 if self._delivered else self.next_block
        while start <= latest:
            end = min(latest, start + self.max_range - 1)
            for params in self._filters(start, end):
                for entry in await self.client.get_logs(params):
                    event = decode_log(entry)
                    if event is not None:
                        found[(event.block_number, event.log_index)] = event
            start = end + 1
        fresh = [found[k] for k in sorted(found) if k not in self._delivered]
        if self.next_block <= latest:
            self.next_block = latest + 1
            self._delivered = {k for k in found if k[0] == latest}
        return fresh

    async def events(self) -> AsyncIterator[DecodedEvent]:
        """Yield events forever (cancel the consuming task to stop): pushed when subscribed, else polled."""
        if not self.use_subscriptions:
            async for event in self._polled(until=None):
                yield event
            return
        loop = asyncio.get_running_loop()
        backoff = self.resubscribe_backoff
        while True:
            async for event in self._subscribed():
                yield event
            if self._was_subscribed:
                backoff = self.resubscribe_backoff  # a working subscription dropped: try again soon
            async for event in self._polled(until=loop.time() + backoff):
                yield event
            backoff = min(backoff * 2, self.resubscribe_backoff_max)

    async def _subscribed(self) -> AsyncIterator[DecodedEvent]:
        """Events pushed over the subscription (after a catch-up poll); returns when the subscription fails."""
        self._was_subscribed = False
        try:
            async with LogSubscription(self.ws_url or ws_url_for(self.client.url), self._filters()) as subscription:
                # Subscribed first, then read what came before: an event in between is seen twice, never missed.
                caught_up = await self.poll()
                self._now_subscribed()
                for event in caught_up:
                    yield event
                while True:
                    pushed = decode_log(await subscription.next())
                    if pushed is not None and self._fresh(pushed):
                        yield pushed
        except ChainError as e:
            self._subscription_failed(e.user_message)

    def _now_subscribed(self) -> None:
        if self.mode != "subscription":
            log.info("session event subscription restored; polling stopped")
        self.mode, self.fallback_reason, self.last_error = "subscription", None, None
        self._was_subscribed = True

    def _subscription_failed(self, reason: str) -> None:
        if self._was_subscribed:
            self._next_poll_at = 0.0  # pushed events may have been lost with the socket: read the chain now
        self.fallback_reason = reason
        if self.mode == "polling":
            log.debug("session event subscription still failing: %s", reason)  # one warning per outage, not per retry
            return
        self.mode, self.last_error = "polling", reason
        log.warning("session event subscription down (%s); polling every %g s and retrying the subscription",
                    reason.rstrip("."), self.interval)

    async def _polled(self, until: float | None) -> AsyncIterator[DecodedEvent]:
        """Polled events every ``interval`` seconds; returns at loop time ``until`` (never, if None)."""
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            if until is not None and now >= until:
                return
            if now < self._next_poll_at:
                await asyncio.sleep(self._next_poll_at - now if until is None else min(self._next_poll_at, until) - now)
                continue
            self._next_poll_at = now + self.interval
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
