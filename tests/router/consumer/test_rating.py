"""Bid rating per spec §6: hand-computed scores, the no-stats case, exact wei, allowlist, weights, failover inputs."""

from __future__ import annotations

import math

import pytest

from app.config.rating_config import RatingWeights, parse_rating_config
from app.router.consumer.rating import (
    BidInfo,
    CooldownMode,
    LocalStats,
    ModelStats,
    ProviderModelStats,
    Stat,
    local_stats_from,
    rank_bids,
    score_bid,
)
from app.storage.records import ProviderStats

MODEL = "0x" + "ab" * 32
MOR = 10**18
MIN_STAKE = 2 * 10**17  # 0.2 MOR

# A model with 5 sessions: TPS (×1000) mean 20000 sd 5000, TTFT mean 800 sd 200, duration mean 600 sd 100.
# sq_sum = (n − 1) × sd², so sd comes out exact.
MODEL_STATS = ModelStats(
    tps=Stat(20_000, 4 * 5_000**2), ttft=Stat(800, 4 * 200**2), total_duration=Stat(600, 4 * 100**2), count=5
)


def bid(n: int, provider: str, price: int, stake: int = MIN_STAKE) -> BidInfo:
    return BidInfo(f"0x{n:064x}", provider, MODEL, price, stake)


def provider(n: int) -> str:
    return f"0x{n:040x}"


def test_hand_computed_score_matches_the_formula() -> None:
    """Every term by hand:

    tps:      z = (27500 − 20000) / 5000 = 1.5   → norm = (1.5 + 3) / 6 = 0.75 → × 0.24 = 0.18
    ttft:     z = (500 − 800) / 200 = −1.5, −z = 1.5 → 0.75                    → × 0.08 = 0.06
    duration: z = (300 − 600) / 100 = −3        → norm = 0                    → × 0.24 = 0
    success:  (9 / 10)² = 0.81                                                → × 0.32 = 0.2592
    stake:    (1.1 MOR − 0.2 MOR) / (9 × 0.2 MOR) = 0.5                       → × 0.12 = 0.06
    sum = 0.5592; price 1e13 wei/s = 1e-5 MOR/s → score = 0.5592 / 1e-5 = 55920
    """
    pm = ProviderModelStats(tps=Stat(27_500, 0), ttft=Stat(500, 0), total_duration=300, success_count=9,
                            total_count=10)
    scored = score_bid(bid(1, provider(1), 10**13, stake=11 * 10**17), pm, MODEL_STATS, MIN_STAKE)
    assert (scored.terms.tps, scored.terms.ttft, scored.terms.duration) == (0.75, 0.75, 0.0)
    assert scored.terms.success == pytest.approx(0.81)
    assert scored.terms.stake == 0.5
    assert scored.contributions.success == pytest.approx(0.2592)
    assert scored.contributions.total() == pytest.approx(0.5592)
    assert scored.score == pytest.approx(55_920)


def test_z_scores_beyond_three_sd_are_clamped() -> None:
    pm = ProviderModelStats(tps=Stat(20_000 + 10 * 5_000, 0), ttft=Stat(800 + 10 * 200, 0), total_duration=600,
                            success_count=1, total_count=1)
    scored = score_bid(bid(1, provider(1), MOR), pm, MODEL_STATS, MIN_STAKE)
    assert (scored.terms.tps, scored.terms.ttft, scored.terms.duration) == (1.0, 0.0, 0.5)


def test_provider_without_stats_scores_half_on_speed_terms_and_price_dominates() -> None:
    """No stats: tps = ttft = duration = 0.5, success = 0, stake at min = 0 → sum = 0.24×.5 + 0.08×.5 + 0.24×.5
    = 0.28. At 4e12 wei/s that is 0.28 / 4e-6 = 70000, above the well-rated bid's 55920 at 1e13 wei/s.
    """
    good_pm = ProviderModelStats(tps=Stat(27_500, 0), ttft=Stat(500, 0), total_duration=300, success_count=9,
                                 total_count=10)
    good = bid(1, provider(1), 10**13, stake=11 * 10**17)
    newcomer = bid(2, provider(2), 4 * 10**12)
    pricey_newcomer = bid(3, provider(3), 10**14)
    checksum_key = provider(1).upper().replace("0X", "0x")  # stats keyed in any letter case
    ranked = rank_bids([good, newcomer, pricey_newcomer], {checksum_key: good_pm}, MODEL_STATS, MIN_STAKE)
    assert [s.bid for s in ranked] == [newcomer, good, pricey_newcomer]
    fresh = ranked[0]
    assert (fresh.terms.tps, fresh.terms.ttft, fresh.terms.duration, fresh.terms.success, fresh.terms.stake) == (
        0.5, 0.5, 0.5, 0.0, 0.0)
    assert fresh.score == pytest.approx(70_000)


def test_model_without_history_gives_every_provider_neutral_speed_terms() -> None:
    pm = ProviderModelStats(tps=Stat(99_000, 0), ttft=Stat(1, 0), total_duration=1, success_count=1, total_count=1)
    scored = score_bid(bid(1, provider(1), MOR), pm, ModelStats(count=1), MIN_STAKE)
    assert (scored.terms.tps, scored.terms.ttft, scored.terms.duration) == (0.5, 0.5, 0.5)


def test_stakes_above_int64_rank_by_their_true_size() -> None:
    """min 5 MOR; stakes 10 MOR and 30 MOR both exceed 2^63 wei (≈ 9.22 MOR), where Go's Int64() wraps negative.
    Exact: (10 − 5) / 45 = 1/9 and (30 − 5) / 45 = 5/9, so the 30-MOR provider ranks first at equal price.
    """
    min_stake = 5 * MOR
    small, big = bid(1, provider(1), 10**13, stake=10 * MOR), bid(2, provider(2), 10**13, stake=30 * MOR)
    assert 10 * MOR > 2**63 - 1
    ranked = rank_bids([small, big], {}, MODEL_STATS, min_stake)
    assert [s.bid for s in ranked] == [big, small]
    assert ranked[0].terms.stake == pytest.approx(5 / 9)
    assert ranked[1].terms.stake == pytest.approx(1 / 9)


def test_prices_above_int64_are_divided_exactly() -> None:
    cheap, dear = bid(1, provider(1), 10 * MOR), bid(2, provider(2), 20 * MOR)
    ranked = rank_bids([dear, cheap], {}, MODEL_STATS, MIN_STAKE)
    assert [s.bid for s in ranked] == [cheap, dear]
    assert ranked[0].score == pytest.approx(0.28 / 10)
    assert ranked[0].score == pytest.approx(2 * ranked[1].score)


def test_zero_price_bid_is_dropped_like_an_infinite_score() -> None:
    ranked = rank_bids([bid(1, provider(1), 0), bid(2, provider(2), MOR)], {}, MODEL_STATS, MIN_STAKE)
    assert [s.bid.provider for s in ranked] == [provider(2)]


def test_non_finite_stats_are_dropped() -> None:
    bad = ProviderModelStats(tps=Stat(math.nan, 0), success_count=1, total_count=1)
    ranked = rank_bids([bid(1, provider(1), MOR), bid(2, provider(2), MOR)], {provider(1): bad}, MODEL_STATS,
                       MIN_STAKE)
    assert [s.bid.provider for s in ranked] == [provider(2)]


def test_stake_below_minimum_scores_zero_and_is_capped_at_ten_times_minimum() -> None:
    low, capped = bid(1, provider(1), MOR, stake=MIN_STAKE - 1), bid(2, provider(2), MOR, stake=100 * MIN_STAKE)
    by_id = {s.bid.bid_id: s for s in rank_bids([low, capped], {}, MODEL_STATS, MIN_STAKE)}
    assert by_id[low.bid_id].terms.stake == 0.0
    assert by_id[capped.bid_id].terms.stake == 1.0


def test_allowlist_drops_other_providers_case_insensitively() -> None:
    bids = [bid(1, provider(0xA), MOR), bid(2, provider(0xB), MOR)]
    ranked = rank_bids(bids, {}, MODEL_STATS, MIN_STAKE, allowlist=[provider(0xB).upper().replace("0X", "0x")])
    assert [s.bid.provider for s in ranked] == [provider(0xB)]
    assert len(rank_bids(bids, {}, MODEL_STATS, MIN_STAKE, allowlist=[])) == 2


def test_equal_scores_are_ordered_by_bid_id() -> None:
    bids = [bid(3, provider(3), MOR), bid(1, provider(1), MOR), bid(2, provider(2), MOR)]
    assert [s.bid.bid_id[-1] for s in rank_bids(bids, {}, MODEL_STATS, MIN_STAKE)] == ["1", "2", "3"]


def test_weights_from_config_change_the_ranking() -> None:
    """With all weight on stake, the staked provider wins despite a 1.5× price; with all weight on success the
    provider with a perfect record wins."""
    staked = bid(1, provider(1), 15 * 10**12, stake=10 * MIN_STAKE)
    reliable = bid(2, provider(2), 10**13)
    stats = {provider(2): ProviderModelStats(success_count=10, total_count=10)}
    stake_only = parse_rating_config(
        {"algorithm": "default", "params": {"weights": {"tps": 0, "ttft": 0, "duration": 0, "success": 0,
                                                         "stake": 1}}}, "test").weights
    success_only = RatingWeights(tps=0, ttft=0, duration=0, success=1, stake=0)
    assert rank_bids([staked, reliable], stats, MODEL_STATS, MIN_STAKE, stake_only)[0].bid == staked
    assert rank_bids([staked, reliable], stats, MODEL_STATS, MIN_STAKE, success_only)[0].bid == reliable


def test_local_failures_lower_a_providers_score() -> None:
    a, b = bid(1, provider(1), MOR), bid(2, provider(2), MOR)
    ranked = rank_bids([a, b], {}, MODEL_STATS, MIN_STAKE, local_stats={provider(1): LocalStats(0, 1)})
    assert [s.bid for s in ranked] == [b, a]
    assert ranked[1].local_factor == 0.5
    assert ranked[1].score == pytest.approx(ranked[0].score / 2)


def test_cooling_down_provider_is_pushed_below_all_others_or_omitted() -> None:
    cheap_but_failed, dear = bid(1, provider(1), 10**12), bid(2, provider(2), 10**15)
    demoted = rank_bids([cheap_but_failed, dear], {}, MODEL_STATS, MIN_STAKE, cooldown={provider(1)})
    assert [(s.bid, s.cooling_down) for s in demoted] == [(dear, False), (cheap_but_failed, True)]
    omitted = rank_bids([cheap_but_failed, dear], {}, MODEL_STATS, MIN_STAKE, cooldown={provider(1)},
                        cooldown_mode=CooldownMode.OMIT)
    assert [s.bid for s in omitted] == [dear]


def test_local_stats_come_from_the_storage_aggregates() -> None:
    aggregates = {provider(1).upper().replace("0X", "0x"): ProviderStats(
        provider(1), MODEL, requests=3, successes=1, mean_ttft_ms=None, mean_tps=None, failed_at=5,
        last_failure_reason="timeout")}
    local = local_stats_from(aggregates)
    assert local == {provider(1): LocalStats(1, 3)}
    assert local[provider(1)].factor == 0.5
