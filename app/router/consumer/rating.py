"""Bid rating, exactly as upstream's default scorer (spec §6) but with exact wei arithmetic and a breakdown.

For each bid of a model:

- ``sd(S, n) = sqrt(max(0, S.sq_sum / (n − 1)))``, 0 when ``n ≤ 1``;
- ``z(x, S, n) = (x − S.mean) / sd``, 0 when ``sd == 0``;  ``norm(z) = clamp01((z + 3) / 6)``;
- a provider with no stats (no sessions counted) gets 0.5 on tps, ttft and duration and 0 on success;
- terms: tps = norm(z(pm.tps.mean, m.tps)), ttft = norm(−z(pm.ttft.mean, m.ttft)),
  duration = norm(z(pm.total_duration, m.total_duration)), success = (successes / total)² (0 if total = 0),
  stake = clamp01((stake − min) / (9 × min)) (0 below min);
- ``score = Σ(weight × term) / (price_per_second / 1e18)``.

Upstream converts wei with ``big.Int.Int64()``, which wraps above ~9.22 MOR; here stake and price stay exact
Python integers and the divisions go through ``Fraction``. Bids off a non-empty allowlist are dropped, as are
non-finite scores (a zero price gives +Inf upstream). The rest sort by descending score, ties by bid id.

Two optional local inputs serve failover: locally measured success (``LocalStats``) multiplies the score by
``(successes + 1) / (requests + 1)`` (1 with no data, ½ after one failure), and providers in a cool-down set are
either omitted or pushed below every other bid.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction

from app.config.rating_config import DEFAULT_WEIGHTS, RatingWeights
from app.storage.records import ProviderStats

WEI_PER_MOR = 10**18


@dataclass(frozen=True, slots=True)
class Stat:
    """A running statistic as the contracts keep it: mean and sum of squared deviations."""

    mean: float = 0
    sq_sum: float = 0


@dataclass(frozen=True, slots=True)
class BidInfo:
    """A bid as the rating needs it (amounts in wei)."""

    bid_id: str
    provider: str
    model_id: str
    price_per_second: int
    provider_stake: int


@dataclass(frozen=True, slots=True)
class ProviderModelStats:
    """On-chain stats of one provider for one model (``getProviderModelStats``); TPS is scaled by 1000."""

    tps: Stat = Stat()
    ttft: Stat = Stat()
    total_duration: int = 0
    success_count: int = 0
    total_count: int = 0


@dataclass(frozen=True, slots=True)
class ModelStats:
    """On-chain stats of a model across providers (``getModelStats``)."""

    tps: Stat = Stat()
    ttft: Stat = Stat()
    total_duration: Stat = Stat()
    count: int = 0


NO_PROVIDER_STATS = ProviderModelStats()


@dataclass(frozen=True, slots=True)
class LocalStats:
    """What this node measured itself for a provider (successful requests out of all requests)."""

    successes: int
    requests: int

    @property
    def factor(self) -> float:
        """The score multiplier: Laplace-smoothed success rate, 1.0 without data."""
        return (self.successes + 1) / (self.requests + 1)


def local_stats_from(stats: Mapping[str, ProviderStats]) -> dict[str, LocalStats]:
    """LocalStats per provider from the storage aggregates (``ProviderStatsRepository.stats_for_model``)."""
    return {p.lower(): LocalStats(s.successes, s.requests) for p, s in stats.items()}


@dataclass(frozen=True, slots=True)
class RatingTerms:
    """The five rating terms (each in [0, 1]), or their weighted contributions."""

    tps: float
    ttft: float
    duration: float
    success: float
    stake: float

    def total(self) -> float:
        """The sum of the five values."""
        return math.fsum((self.tps, self.ttft, self.duration, self.success, self.stake))

    def weighted(self, w: RatingWeights) -> RatingTerms:
        """Each term multiplied by its weight."""
        return RatingTerms(
            w.tps * self.tps, w.ttft * self.ttft, w.duration * self.duration, w.success * self.success,
            w.stake * self.stake,
        )


@dataclass(frozen=True, slots=True)
class ScoredBid:
    """A ranked bid with everything the GUI needs to explain its place."""

    bid: BidInfo
    score: float
    terms: RatingTerms
    contributions: RatingTerms
    local_factor: float = 1.0
    cooling_down: bool = False


class CooldownMode(Enum):
    """What to do with bids of providers that failed recently."""

    DEMOTE = "demote"
    OMIT = "omit"


def sd(stat: Stat, n: int) -> float:
    """Sample standard deviation from a sum of squared deviations; 0 for fewer than two samples."""
    if n <= 1:
        return 0.0
    return math.sqrt(max(0.0, stat.sq_sum / (n - 1)))


def z_score(x: float, stat: Stat, n: int) -> float:
    """How many standard deviations ``x`` lies from the mean; 0 when the spread is 0."""
    spread = sd(stat, n)
    return 0.0 if spread == 0 else (x - stat.mean) / spread


def norm(z: float) -> float:
    """Map a z-score onto [0, 1]: −3 → 0, 0 → 0.5, +3 → 1; NaN stays NaN (as Go's math.Min/Max keep it)."""
    if math.isnan(z):
        return math.nan
    return min(1.0, max(0.0, (z + 3) / 6))


def stake_term(stake: int, min_stake: int) -> float:
    """``clamp01((stake − min) / (9 × min))`` in exact integers; 0 below min (1 for any stake if min ≤ 0)."""
    if min_stake <= 0:
        return 1.0 if stake > 0 else 0.0
    if stake < min_stake:
        return 0.0
    return float(min(Fraction(1), Fraction(stake - min_stake, 9 * min_stake)))


def rating_terms(pm: ProviderModelStats, m: ModelStats, stake: int, min_stake: int) -> RatingTerms:
    """The five unweighted terms of one provider for one model.

    A provider with no recorded sessions (``total_count == 0``) gets the neutral 0.5 on the three speed terms
    rather than z-scores of its all-zero means, which would read "0 TPS, instant TTFT".
    """
    if pm.total_count == 0:
        return RatingTerms(0.5, 0.5, 0.5, 0.0, stake_term(stake, min_stake))
    success = (pm.success_count / pm.total_count) ** 2
    return RatingTerms(
        tps=norm(z_score(pm.tps.mean, m.tps, m.count)),
        ttft=norm(-z_score(pm.ttft.mean, m.ttft, m.count)),
        duration=norm(z_score(pm.total_duration, m.total_duration, m.count)),
        success=success,
        stake=stake_term(stake, min_stake),
    )


def price_adjusted(weighted_sum: float, price_per_second: int) -> float:
    """``weighted_sum / (price / 1e18)`` computed exactly; NaN for a non-positive price (dropped later)."""
    if price_per_second <= 0 or not math.isfinite(weighted_sum):
        return math.nan
    try:
        return float(Fraction(weighted_sum) * WEI_PER_MOR / price_per_second)
    except OverflowError:
        return math.inf


def score_bid(
    bid: BidInfo,
    pm: ProviderModelStats,
    m: ModelStats,
    min_stake: int,
    weights: RatingWeights = DEFAULT_WEIGHTS,
    local: LocalStats | None = None,
) -> ScoredBid:
    """Score one bid (the score may be non-finite; ``rank_bids`` drops those)."""
    terms = rating_terms(pm, m, bid.provider_stake, min_stake)
    contributions = terms.weighted(weights)
    factor = local.factor if local is not None else 1.0
    score = price_adjusted(contributions.total(), bid.price_per_second) * factor
    return ScoredBid(bid, score, terms, contributions, factor)


def rank_bids(
    bids: Iterable[BidInfo],
    provider_stats: Mapping[str, ProviderModelStats],
    model_stats: ModelStats,
    min_stake: int,
    weights: RatingWeights = DEFAULT_WEIGHTS,
    allowlist: Collection[str] = (),
    *,
    local_stats: Mapping[str, LocalStats] | None = None,
    cooldown: Collection[str] = (),
    cooldown_mode: CooldownMode = CooldownMode.DEMOTE,
) -> list[ScoredBid]:
    """Rank bids best first.

    ``provider_stats``, ``local_stats``, ``allowlist`` (empty = all allowed) and ``cooldown`` are keyed by provider
    address in any letter case; a provider missing from ``provider_stats`` has no stats.
    """
    allowed = {a.lower() for a in allowlist}
    cooling = {a.lower() for a in cooldown}
    stats_by_provider = {p.lower(): s for p, s in provider_stats.items()}
    local_by_provider = {p.lower(): s for p, s in (local_stats or {}).items()}
    ranked: list[ScoredBid] = []
    for bid in bids:
        provider = bid.provider.lower()
        if allowed and provider not in allowed:
            continue
        is_cooling = provider in cooling
        if is_cooling and cooldown_mode is CooldownMode.OMIT:
            continue
        pm = stats_by_provider.get(provider, NO_PROVIDER_STATS)
        scored = score_bid(bid, pm, model_stats, min_stake, weights, local_by_provider.get(provider))
        if not math.isfinite(scored.score):
            continue
        if is_cooling:
            scored = ScoredBid(scored.bid, scored.score, scored.terms, scored.contributions, scored.local_factor,
                               cooling_down=True)
        ranked.append(scored)
    ranked.sort(key=lambda s: (s.cooling_down, -s.score, s.bid.bid_id.lower()))
    return ranked
