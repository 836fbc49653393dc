"""Read a provider's state from chain: live limits, registration, our bids and their rank, sessions and earnings."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from app.chain.diamond import Diamond
from app.chain.records import Page, Provider, Session
from app.gui.provider.earnings import Earnings, earnings
from app.router.consumer.market import Market
from app.router.ports import ChainInfo

_PAGE = 100


@dataclass(frozen=True, slots=True)
class Limits:
    """The contract's live parameters the forms validate against (wei; price bounds per second)."""

    provider_min_stake: int
    model_min_stake: int
    bid_fee: int
    price_min: int
    price_max: int


@dataclass(frozen=True, slots=True)
class OwnBid:
    """One of our active bids, and where it ranks against every bid for the same model."""

    bid_id: str
    model_id: str
    model_name: str
    price_per_second: int
    rank: int | None
    competitors: int
    score: float | None
    best_competitor_score: float | None


@dataclass(frozen=True, slots=True)
class ProviderStatus:
    """Everything the provider dashboard shows."""

    address: str
    provider: Provider
    bids: list[OwnBid]
    earnings: Earnings
    now: int

    @property
    def registered(self) -> bool:
        return self.provider.is_active


class ProviderReader:
    """Reads through the Diamond's views."""

    def __init__(self, diamond: Diamond, chain: ChainInfo) -> None:
        self.diamond = diamond
        self.chain = chain

    async def limits(self) -> Limits:
        """Minimum stakes, bid fee and price bounds as the chain says now."""
        d = self.diamond
        provider_min, model_min, fee, bounds = await asyncio.gather(
            d.provider_minimum_stake(), d.model_minimum_stake(), d.bid_fee(), d.min_max_bid_price_per_second(),
        )
        return Limits(provider_min, model_min, fee, bounds[0], bounds[1])

    async def _paged(self, fetch: Callable[[str, int, int], Awaitable[Page[bytes]]], address: str) -> list[bytes]:
        ids: list[bytes] = []
        while True:
            page = await fetch(address, len(ids), _PAGE)
            ids.extend(page.items)
            if not page.items or len(ids) >= page.total:
                return ids

    async def status(self, address: str) -> ProviderStatus:
        """Registration, our bids with their rank, and earnings over every session we served."""
        now = await self.chain.block_timestamp()
        provider = await self.diamond.get_provider(address)
        bid_ids, session_ids = await asyncio.gather(
            self._paged(self.diamond.provider_active_bids, address),
            self._paged(self.diamond.provider_sessions, address),
        )
        bids = await self.diamond.get_bids(bid_ids) if bid_ids else []
        sessions: list[Session] = await self.diamond.get_sessions(session_ids) if session_ids else []
        prices = {b.id: b.price_per_second for b in bids}
        missing = sorted({s.bid_id for s in sessions} - set(prices))
        if missing:
            prices.update({b.id: b.price_per_second for b in await self.diamond.get_bids(missing)})
        own = await asyncio.gather(*(self._own_bid(b.id, b.model_id, b.price_per_second, address) for b in bids))
        paid = [(s, prices.get(s.bid_id, 0)) for s in sessions]
        return ProviderStatus(address, provider, list(own), earnings(provider, paid, now), now)

    async def _own_bid(self, bid_id: bytes, model_id: bytes, price: int, address: str) -> OwnBid:
        model = await self.diamond.get_model(model_id)
        snapshot = await Market(self.diamond, self.chain).snapshot(model_id)
        ours = next((i for i, rb in enumerate(snapshot.bids) if rb.bid.id == bid_id), None)
        others = [rb.scored.score for rb in snapshot.bids if rb.provider_address.lower() != address.lower()]
        return OwnBid(
            "0x" + bid_id.hex(), "0x" + model_id.hex(), model.name, price,
            None if ours is None else ours + 1, len(others),
            None if ours is None else snapshot.bids[ours].scored.score, max(others) if others else None,
        )
