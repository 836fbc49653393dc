"""Nonce manager: hands out gap-free nonces to concurrent senders, resyncing from the node after errors."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager


class NonceManager:
    """One per sending address. ``async with manager.reserve() as nonce`` holds the lock until the tx is sent.

    Holding the lock through signing and broadcast is what makes it gap-free: if the broadcast fails the nonce
    was never used, so the next sender re-reads the node's ``pending`` count instead of skipping a number.
    """

    def __init__(self, fetch_pending: Callable[[], Awaitable[int]]) -> None:
        self._fetch_pending = fetch_pending
        self._lock = asyncio.Lock()
        self._next: int | None = None
        self._held: set[int] = set()

    @property
    def cached_next(self) -> int | None:
        """The nonce the next reservation will get without asking the node, or None after a resync."""
        return self._next

    def invalidate(self) -> None:
        """Forget the cached nonce; the next reservation reads ``pending`` from the node."""
        self._next = None

    def hold(self, nonce: int) -> None:
        """A transaction with ``nonce`` is in flight but was not sent through here (found after a restart): hand
        out only later nonces until it is released, even from a node whose ``pending`` count omits it."""
        self._held.add(nonce)
        if self._next is not None:
            self._next = max(self._next, nonce + 1)

    def release(self, nonce: int) -> None:
        """The held transaction was mined or dropped: resync from the node (a dropped one frees its nonce)."""
        self._held.discard(nonce)
        self._next = None

    @asynccontextmanager
    async def reserve(self) -> AsyncIterator[int]:
        async with self._lock:
            if self._next is None:
                self._next = max([await self._fetch_pending(), *(n + 1 for n in self._held)])
            nonce = self._next
            try:
                yield nonce
            except BaseException:
                self._next = None
                raise
            self._next = nonce + 1
