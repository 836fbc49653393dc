"""Bid rows: sort presets, filters, allow/deny, model search, and the score explanation."""

from __future__ import annotations

from app.config.rating_config import DEFAULT_WEIGHTS
from app.gui.marketplace.market_data import (
    BidFilter,
    BidRow,
    Measured,
    ModelRow,
    SortPreset,
    explain,
    filter_models,
    sort_rows,
    visible_rows,
)
from app.router.consumer.rating import RatingTerms

TERMS = RatingTerms(0.5, 0.5, 0.5, 1.0, 0.2)


def _row(rank: int, provider: str, price: int, tps: float | None, success: tuple[int, int],
         measured: Measured | None = None) -> BidRow:
    return BidRow(rank, f"0x{rank:064x}", provider, "127.0.0.1:1", price, 5 * 10**18, 10.0 / rank, TERMS,
                  TERMS.weighted(DEFAULT_WEIGHTS), 1.0, False,
                  tps, 200.0, success[0], success[1], 600, measured)


A = _row(1, "0xAAA", 3 * 10**14, 20.0, (9, 10))
B = _row(2, "0xBBB", 1 * 10**14, 50.0, (5, 10))
C = _row(3, "0xCCC", 2 * 10**14, None, (0, 0), Measured(4, 1.0, 150.0, 80.0))


def test_presets_order_by_score_price_speed_and_reliability() -> None:
    rows = [C, A, B]
    assert [r.provider for r in sort_rows(rows, SortPreset.BEST)] == ["0xAAA", "0xBBB", "0xCCC"]
    assert [r.provider for r in sort_rows(rows, SortPreset.CHEAPEST)] == ["0xBBB", "0xCCC", "0xAAA"]
    # our measured 80 tok/s for C beats B's on-chain 50
    assert [r.provider for r in sort_rows(rows, SortPreset.FASTEST)] == ["0xCCC", "0xBBB", "0xAAA"]
    assert [r.provider for r in sort_rows(rows, SortPreset.RELIABLE)] == ["0xCCC", "0xAAA", "0xBBB"]


def test_min_tps_and_max_price_filters_hide_bids() -> None:
    assert [r.provider for r in visible_rows([A, B, C], SortPreset.BEST, BidFilter(min_tps=30))] == ["0xBBB", "0xCCC"]
    per_hour_cap = 2 * 10**14 * 3600
    kept = visible_rows([A, B, C], SortPreset.BEST, BidFilter(max_price_per_hour=per_hour_cap))
    assert [r.provider for r in kept] == ["0xBBB", "0xCCC"]


def test_deny_hides_a_provider_and_allow_keeps_only_the_allowed() -> None:
    assert [r.provider for r in visible_rows([A, B], SortPreset.BEST, BidFilter(deny=frozenset({"0xaaa"})))] == [
        "0xBBB"]
    assert [r.provider for r in visible_rows([A, B, C], SortPreset.BEST, BidFilter(allow=frozenset({"0xccc"})))] == [
        "0xCCC"]


def test_model_search_matches_name_and_tags_and_the_tag_filter() -> None:
    models = [ModelRow("0x01", "Llama 3 8B", ("llm", "meta"), 2, 1, 2), ModelRow("0x02", "SDXL", ("image",), 1, 1, 1)]
    assert [m.name for m in filter_models(models, "meta", None)] == ["Llama 3 8B"]
    assert [m.name for m in filter_models(models, "", "image")] == ["SDXL"]
    assert models[1].kind == "image"
    assert models[0].kind == "LLM"


def test_explanation_lists_every_term_with_weight_and_the_price_division() -> None:
    text = explain(B, others=[A, B, C])
    assert "Rank 2" in text
    assert "Success rate²: 1.00 × weight 0.32 = 0.320" in text
    assert "÷ price 0.0001 MOR/s" in text
    assert "1 bid(s) rank above it." in text
    assert "No sessions on chain yet" in explain(C)
