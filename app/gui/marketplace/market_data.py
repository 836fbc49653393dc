"""Rows the marketplace shows (models, ranked bids with on-chain claims next to our measurements), sorting, filters."""

from __future__ import annotations

import enum
import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, replace

from app.config.rating_config import DEFAULT_WEIGHTS, RatingWeights
from app.router.consumer.market import MarketSnapshot, RankedBid
from app.router.consumer.rating import RatingTerms
from app.storage.records import ProviderStats

SECONDS_PER_HOUR = 3600


@dataclass(frozen=True, slots=True)
class ModelRow:
    """A model on chain with a summary of its active bids (prices in wei per second)."""

    model_id: str
    name: str
    tags: tuple[str, ...]
    active_bids: int
    min_price: int | None
    max_price: int | None

    @property
    def kind(self) -> str:
        """The model type from its tags (LLM unless tagged otherwise)."""
        lowered = {t.lower() for t in self.tags}
        for kind in ("image", "audio", "embedding", "tts", "stt"):
            if kind in lowered:
                return kind
        return "LLM"


@dataclass(frozen=True, slots=True)
class Measured:
    """What this node measured itself for a provider (requests it sent, their success, mean TTFT and TPS)."""

    requests: int
    success_rate: float | None
    ttft_ms: float | None
    tps: float | None


@dataclass(frozen=True, slots=True)
class BidRow:
    """One ranked bid with everything shown in its row and detail panel."""

    rank: int
    bid_id: str
    provider: str
    endpoint: str
    price_per_second: int
    provider_stake: int
    score: float
    terms: RatingTerms
    contributions: RatingTerms
    local_factor: float
    cooling_down: bool
    chain_tps: float | None
    chain_ttft_ms: float | None
    chain_successes: int
    chain_sessions: int
    total_duration_s: int
    measured: Measured | None = None
    ping_ms: float | None = None
    ping_error: str | None = None

    @property
    def price_per_hour(self) -> int:
        return self.price_per_second * SECONDS_PER_HOUR

    @property
    def chain_success_rate(self) -> float | None:
        return self.chain_successes / self.chain_sessions if self.chain_sessions else None

    @property
    def best_tps(self) -> float | None:
        """Our measured TPS when we have one, else the provider's on-chain mean."""
        return self.measured.tps if self.measured and self.measured.tps is not None else self.chain_tps

    @property
    def best_success(self) -> float | None:
        if self.measured and self.measured.success_rate is not None:
            return self.measured.success_rate
        return self.chain_success_rate


def measured_from(stats: ProviderStats | None) -> Measured | None:
    """Our measurements from the storage aggregates."""
    if stats is None or stats.requests == 0:
        return None
    return Measured(stats.requests, stats.success_rate, stats.mean_ttft_ms, stats.mean_tps)


def bid_rows(snapshot: MarketSnapshot, local: Mapping[str, ProviderStats]) -> list[BidRow]:
    """The snapshot's ranked bids as rows; ``local`` is keyed by provider address (any case)."""
    local_lower = {k.lower(): v for k, v in local.items()}
    return [_row(i + 1, rb, measured_from(local_lower.get(rb.provider_address.lower())))
            for i, rb in enumerate(snapshot.bids)]


def _row(rank: int, rb: RankedBid, measured: Measured | None) -> BidRow:
    pm = rb.provider_stats
    has_stats = pm.total_count > 0
    return BidRow(
        rank=rank, bid_id=rb.bid_id, provider=rb.provider_address, endpoint=rb.endpoint,
        price_per_second=rb.price_per_second, provider_stake=rb.provider.stake, score=rb.scored.score,
        terms=rb.scored.terms, contributions=rb.scored.contributions, local_factor=rb.scored.local_factor,
        cooling_down=rb.scored.cooling_down,
        chain_tps=pm.tps.mean / 1000 if has_stats else None,  # on chain TPS is scaled by 1000
        chain_ttft_ms=pm.ttft.mean if has_stats else None,
        chain_successes=pm.success_count, chain_sessions=pm.total_count, total_duration_s=pm.total_duration,
        measured=measured,
    )


def with_ping(row: BidRow, ping_ms: float | None, error: str | None = None) -> BidRow:
    """The row with a ping result (latency or the reason it failed)."""
    return replace(row, ping_ms=ping_ms, ping_error=error)


class SortPreset(enum.Enum):
    """How the bid table is ordered."""

    BEST = "Best score"
    CHEAPEST = "Cheapest"
    FASTEST = "Fastest"
    RELIABLE = "Most reliable"


def _missing_last(value: float | None, descending: bool) -> float:
    if value is None:
        return math.inf
    return -value if descending else value


def sort_rows(rows: Iterable[BidRow], preset: SortPreset) -> list[BidRow]:
    """Rows in the preset's order (ties by rank, so the rating decides among equals)."""
    if preset is SortPreset.CHEAPEST:
        return sorted(rows, key=lambda r: (r.price_per_second, r.rank))
    if preset is SortPreset.FASTEST:
        return sorted(rows, key=lambda r: (_missing_last(r.best_tps, True), r.rank))
    if preset is SortPreset.RELIABLE:
        return sorted(rows, key=lambda r: (_missing_last(r.best_success, True), r.rank))
    return sorted(rows, key=lambda r: r.rank)


@dataclass(frozen=True, slots=True)
class BidFilter:
    """Hide bids: below a minimum TPS, above a maximum price per hour, denied providers, or off the allowlist."""

    min_tps: float = 0.0
    max_price_per_hour: int | None = None
    allow: frozenset[str] = frozenset()
    deny: frozenset[str] = frozenset()

    def keeps(self, row: BidRow) -> bool:
        provider = row.provider.lower()
        if provider in self.deny or (self.allow and provider not in self.allow):
            return False
        if self.max_price_per_hour is not None and row.price_per_hour > self.max_price_per_hour:
            return False
        return not (self.min_tps > 0 and (row.best_tps or 0.0) < self.min_tps)


def visible_rows(rows: Iterable[BidRow], preset: SortPreset, bid_filter: BidFilter) -> list[BidRow]:
    """Filtered, then sorted."""
    return sort_rows((r for r in rows if bid_filter.keeps(r)), preset)


def filter_models(models: Iterable[ModelRow], text: str, tag: str | None) -> list[ModelRow]:
    """Models whose name, id or tags contain ``text`` (any case), carrying ``tag`` when given."""
    needle = text.strip().lower()
    kept = []
    for m in models:
        if tag and tag.lower() not in {t.lower() for t in m.tags}:
            continue
        haystack = " ".join((m.name, m.model_id, *m.tags)).lower()
        if needle and needle not in haystack:
            continue
        kept.append(m)
    return kept


def explain(row: BidRow, weights: RatingWeights = DEFAULT_WEIGHTS, others: Collection[BidRow] = ()) -> str:
    """Why the bid ranks where it does: each term, its weight and contribution, the price division, local factor."""
    names = (("tps", "Throughput (TPS vs model)"), ("ttft", "Latency (TTFT vs model)"),
             ("duration", "Time served"), ("success", "Success rate²"), ("stake", "Provider stake"))
    lines = [f"Rank {row.rank}: score {row.score:,.4g}"]
    for key, label in names:
        term, weight, part = getattr(row.terms, key), getattr(weights, key), getattr(row.contributions, key)
        lines.append(f"  {label}: {term:.2f} × weight {weight:.2f} = {part:.3f}")
    lines.append(f"  Sum {row.contributions.total():.3f} ÷ price {row.price_per_second / 1e18:.3g} MOR/s")
    if row.chain_sessions == 0:
        lines.append("  No sessions on chain yet: neutral 0.5 on speed terms, 0 on success.")
    if row.local_factor != 1.0:
        lines.append(f"  × {row.local_factor:.2f} from our own measured success")
    if row.cooling_down:
        lines.append("  Cooling down after a recent failure: listed below every other bid.")
    better = [o for o in others if o.rank < row.rank]
    if better:
        lines.append(f"  {len(better)} bid(s) rank above it.")
    return "\n".join(lines)
