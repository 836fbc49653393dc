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

    @property
    def cached_next(self) -> int | None:
        """The nonce the next reservation will get without asking the node, or None after a resync."""
        return self._next

    def invalidate(self) -> None:
        """Forget the cached nonce; the next reservation reads ``pending`` from the node."""
        self._next = None

    @asynccontextmanager
    async def reserve(self) -> AsyncIterator[int]:
        async with self._lock:
            if self._next is None:
                self._next = await self._fetch_pending()
            nonce = self._next
            try:
                yield nonce
            except BaseException:
                self._next = None
                raise
            self._next = nonce + 1
