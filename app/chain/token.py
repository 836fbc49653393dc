"""The MOR ERC-20: balances, transfers and a race-free allowance top-up for concurrent session opens."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from app.chain import diamond_abi as abi
from app.chain.abi import Function
from app.chain.client import ChainClient
from app.chain.receipts import TxReceipt
from app.chain.tx import TxSender
from app.chain.units import format_mor
from app.errors import ChainError

MAX_UINT256 = 2**256 - 1


class MorToken:
    """MOR at ``address``. Writes go through ``sender``."""

    def __init__(self, client: ChainClient, address: str, sender: TxSender | None = None) -> None:
        self.client = client
        self.address = address
        self.sender = sender
        self._allowance_lock = asyncio.Lock()
        self._reserved: dict[str, int] = {}

    async def _one(self, fn: Function, *args: Any) -> int:
        data = await self.client.call(self.address, fn.encode(*args), context=f"reading MOR {fn.name}")
        return int(fn.decode(data)[0])

    async def _write(self, fn: Function, *args: Any, purpose: str) -> TxReceipt:
        if self.sender is None:
            raise ChainError(f"Cannot {purpose}: no wallet is unlocked for sending transactions.")
        return await self.sender.send(self.address, fn.encode(*args), purpose=purpose)

    async def balance_of(self, owner: str) -> int:
        return await self._one(abi.BALANCE_OF, owner)

    async def allowance(self, owner: str, spender: str) -> int:
        return await self._one(abi.ALLOWANCE, owner, spender)

    async def total_supply(self) -> int:
        return await self._one(abi.TOTAL_SUPPLY)

    async def approve(self, spender: str, amount: int) -> TxReceipt:
        return await self._write(abi.APPROVE, spender, amount, purpose=f"approving {format_mor(amount)}")

    async def increase_allowance(self, spender: str, amount: int) -> TxReceipt:
        return await self._write(
            abi.INCREASE_ALLOWANCE, spender, amount, purpose=f"raising the MOR allowance by {format_mor(amount)}"
        )

    async def transfer(self, to: str, amount: int) -> TxReceipt:
        return await self._write(abi.TRANSFER, to, amount, purpose=f"sending {format_mor(amount)}")

    async def _top_up(self, spender: str, needed: int) -> TxReceipt | None:
        if self.sender is None:
            raise ChainError("Cannot raise the MOR allowance: no wallet is unlocked for sending transactions.")
        current = await self.allowance(self.sender.address, spender)
        if current >= needed:
            return None
        delta = needed - current
        if current + delta > MAX_UINT256:  # proxy spec §10.9: never overflow the allowance
            return None
        return await self.increase_allowance(spender, delta)

    async def ensure_allowance(self, spender: str, amount: int) -> TxReceipt | None:
        """Make sure ``spender`` may pull ``amount`` now; sends ``increaseAllowance`` only when short."""
        async with self._allowance_lock:
            return await self._top_up(spender, amount + self._reserved.get(spender, 0))

    @asynccontextmanager
    async def reserve_allowance(self, spender: str, amount: int) -> AsyncIterator[None]:
        """Hold ``amount`` of allowance for the body (e.g. an ``openSession``) so concurrent opens don't race.

        Each concurrent holder's amount counts toward the allowance the next one needs, so two opens in flight
        never both rely on the same allowance.
        """
        async with self._allowance_lock:
            await self._top_up(spender, amount + self._reserved.get(spender, 0))
            self._reserved[spender] = self._reserved.get(spender, 0) + amount
        try:
            yield
        finally:
            self._reserved[spender] -= amount
