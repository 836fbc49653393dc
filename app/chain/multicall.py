"""Multicall3 batching: many view calls in one ``eth_call`` (with a plain fallback where Multicall3 is absent)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from typing import Any

from app.chain import diamond_abi as abi
from app.chain.abi import Function
from app.chain.client import ChainClient


class Multicall:
    """``aggregate`` through the Multicall3 contract at ``address``."""

    def __init__(self, client: ChainClient, address: str) -> None:
        self.client = client
        self.address = address
        self._deployed: bool | None = None

    async def _is_deployed(self) -> bool:
        if self._deployed is None:
            self._deployed = len(await self.client.get_code(self.address)) > 0
        return self._deployed

    async def aggregate(self, calls: Sequence[tuple[str, bytes]], context: str = "") -> list[bytes]:
        """Return data of each ``(target, calldata)``; any reverting call makes the whole batch raise."""
        if not calls:
            return []
        if not await self._is_deployed():
            # No Multicall3 on this chain (a bare devnet): same answers, one call each.
            return list(await asyncio.gather(*(self.client.call(t, d, context=context) for t, d in calls)))
        data = abi.AGGREGATE.encode([(target, calldata) for target, calldata in calls])
        _block, results = abi.AGGREGATE.decode(await self.client.call(self.address, data, context=context))
        return [bytes(r) for r in results]

    async def call_many(
        self, target: str, fn: Function, args_list: Sequence[tuple[Any, ...]], context: str = ""
    ) -> list[tuple[Any, ...]]:
        """Call one function with many argument tuples; decoded results in the same order."""
        raw = await self.aggregate([(target, fn.encode(*args)) for args in args_list], context)
        return [fn.decode(r) for r in raw]
