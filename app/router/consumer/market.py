"""The market for one model: every active bid with the chain inputs of its rating, ranked best first (spec §5.1, §6).

Everything the score was computed from is kept on the snapshot, so the GUI can show why a bid ranks where it does.
Our own bids and explicitly omitted providers are left out; providers that failed us recently (local cool-down)
are pushed below all others rather than dropped, so a model with one provider still works.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass, field

from app.chain.records import Bid, Provider
from app.chain.records import ModelStats as ChainModelStats
from app.chain.records import ProviderModelStats as ChainProviderModelStats
from app.config.rating_config import RatingConfig
from app.router.consumer import rating
from app.router.ports import ChainInfo, MarketplacePort
from app.storage.records import now_ms
from app.storage.store import AsyncStorage

__all__ = ["DEFAULT_COOLDOWN_S", "PAGE_SIZE", "Market", "MarketSnapshot", "RankedBid"]

PAGE_SIZE = 255  # upstream pages active bids in batches of 255
DEFAULT_COOLDOWN_S = 10 * 60


@dataclass(frozen=True, slots=True)
class RankedBid:
    """One bid in rank order, with the provider record and the on-chain stats it was scored on."""

    scored: rating.ScoredBid
    bid: Bid
    provider: Provider
    provider_stats: rating.ProviderModelStats

    @property
    def bid_id(self) -> str:
        return "0x" + self.bid.id.hex()

    @property
    def provider_address(self) -> str:
        return self.bid.provider

    @property
    def endpoint(self) -> str:
        return self.provider.endpoint

    @property
    def price_per_second(self) -> int:
        return self.bid.price_per_second


@dataclass(frozen=True, slots=True)
class MarketSnapshot:
    """The ranked bids of a model and every chain-wide input used (amounts in wei, times in Unix seconds)."""

    model_id: bytes
    timestamp: int
    supply: int
    budget: int
    min_stake: int
    model_stats: rating.ModelStats
    bids: list[RankedBid]
    skipped_own: int = 0
    omitted: frozenset[str] = field(default_factory=frozenset)

    def stake_for(self, price_per_second: int, duration_s: int) -> int:
        """Stake-mode amount for ``duration_s`` at ``price_per_second``: ``supply × price × duration / budget``."""
        return stake_amount(self.supply, self.budget, price_per_second, duration_s)


def stake_amount(supply: int, budget: int, price_per_second: int, duration_s: int) -> int:
    """The inverse of the contract's ``stakeToStipend`` (spec §5.2), in exact integers."""
    if budget <= 0:
        return 0
    return supply * price_per_second * duration_s // budget


def _stat(sd: object) -> rating.Stat:
    return rating.Stat(float(getattr(sd, "mean", 0)), float(getattr(sd, "sq_sum", 0)))


def model_stats_from_chain(m: ChainModelStats) -> rating.ModelStats:
    """The rating's view of ``getModelStats``."""
    return rating.ModelStats(_stat(m.tps_scaled1000), _stat(m.ttft_ms), _stat(m.total_duration), m.count)


def provider_stats_from_chain(p: ChainProviderModelStats) -> rating.ProviderModelStats:
    """The rating's view of ``getProviderModelStats``."""
    return rating.ProviderModelStats(_stat(p.tps_scaled1000), _stat(p.ttft_ms), p.total_duration, p.success_count,
                                     p.total_count)


class Market:
    """Reads and ranks bids through the marketplace port; local stats and cool-downs come from storage."""

    def __init__(
        self,
        diamond: MarketplacePort,
        chain: ChainInfo,
        *,
        storage: AsyncStorage | None = None,
        rating_config: RatingConfig | None = None,
        own_address: str | None = None,
        cooldown_s: float = DEFAULT_COOLDOWN_S,
    ) -> None:
        self.diamond = diamond
        self.chain = chain
        self.storage = storage
        self.rating_config = rating_config or RatingConfig()
        self.own_address = own_address
        self.cooldown_s = cooldown_s
        self._min_stake: int | None = None

    async def _active_bid_ids(self, model_id: bytes) -> list[bytes]:
        ids: list[bytes] = []
        offset = 0
        while True:
            page = await self.diamond.model_active_bids(model_id, offset, PAGE_SIZE)
            ids.extend(page.items)
            offset += len(page.items)
            if not page.items or offset >= page.total:
                return ids

    async def _min_stake_cached(self) -> int:
        if self._min_stake is None:
            self._min_stake = await self.diamond.provider_minimum_stake()
        return self._min_stake

    async def _local(self, model_hex: str) -> tuple[dict[str, rating.LocalStats], set[str]]:
        if self.storage is None:
            return {}, set()
        repo = self.storage.sync.provider_stats
        stats = await self.storage.run(repo.stats_for_model, model_hex)
        cooling = await self.storage.run(repo.cooling_down, model_hex, now_ms(), int(self.cooldown_s * 1000))
        return rating.local_stats_from(stats), cooling

    async def snapshot(self, model_id: bytes, *, omit: Collection[str] = ()) -> MarketSnapshot:
        """Read the chain and rank the model's active bids (omitting ``omit`` providers and our own bids)."""
        now = await self.chain.block_timestamp()
        supply, budget, chain_model_stats, min_stake, bid_ids = await asyncio.gather(
            self.diamond.total_mor_supply(now), self.diamond.todays_budget(now),
            self.diamond.model_stats(model_id), self._min_stake_cached(), self._active_bid_ids(model_id),
        )
        bids = await self.diamond.get_bids(bid_ids) if bid_ids else []
        own = (self.own_address or "").lower()
        omitted = frozenset(a.lower() for a in omit)
        kept = [b for b in bids if b.provider.lower() != own and b.provider.lower() not in omitted]
        skipped_own = sum(1 for b in bids if own and b.provider.lower() == own)
        addresses = sorted({b.provider for b in kept}, key=str.lower)
        providers_list, pm_list = await asyncio.gather(
            self.diamond.get_providers(addresses) if addresses else _empty_providers(),
            asyncio.gather(*(self.diamond.provider_model_stats(model_id, a) for a in addresses)),
        )
        providers = {a.lower(): p for a, p in zip(addresses, providers_list, strict=True)}
        pm_stats = {a.lower(): provider_stats_from_chain(s) for a, s in zip(addresses, pm_list, strict=True)}
        model_hex = "0x" + model_id.hex()
        local, cooling = await self._local(model_hex)
        infos = {
            b.id: rating.BidInfo("0x" + b.id.hex(), b.provider, model_hex, b.price_per_second,
                                 providers[b.provider.lower()].stake)
            for b in kept if providers[b.provider.lower()].is_active
        }
        model_stats = model_stats_from_chain(chain_model_stats)
        ranked = rating.rank_bids(
            infos.values(), pm_stats, model_stats, min_stake, self.rating_config.weights,
            self.rating_config.provider_allowlist, local_stats=local, cooldown=cooling,
        )
        by_id = {"0x" + b.id.hex(): b for b in kept}
        ranked_bids = [
            RankedBid(s, by_id[s.bid.bid_id], providers[s.bid.provider.lower()], pm_stats[s.bid.provider.lower()])
            for s in ranked
        ]
        return MarketSnapshot(model_id, now, supply, budget, min_stake, model_stats, ranked_bids, skipped_own,
                              omitted)


async def _empty_providers() -> list[Provider]:
    return []
