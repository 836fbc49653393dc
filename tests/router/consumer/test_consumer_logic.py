"""Pure consumer arithmetic and shaping: stake amount, self-signed receipt, continuation, chunk text, answer stats."""

from __future__ import annotations

from app.router.consumer.failover import CONTINUE_INSTRUCTION, continuation_messages
from app.router.consumer.market import stake_amount
from app.router.consumer.prompt import AnswerStats, content_of
from app.router.consumer.sessions import SessionUsage


def test_stake_mode_amount_is_supply_times_cost_over_budget_in_exact_integers() -> None:
    supply, budget = 41_000_000 * 10**18 + 7, 3_456 * 10**18 + 3
    assert stake_amount(supply, budget, 10**14, 3600) == supply * 10**14 * 3600 // budget


def test_an_empty_budget_gives_no_stake_rather_than_dividing_by_zero() -> None:
    assert stake_amount(10**24, 0, 10**14, 3600) == 0


def test_the_self_signed_receipt_averages_ttft_and_tps_and_sums_tokens() -> None:
    usage = SessionUsage()
    usage.add(100.0, 10.0, 50, 20)
    usage.add(300.0, 20.0, 70, 40)

    receipt = usage.receipt(b"\x01" * 32, 31337)

    assert (receipt.ttft_ms, receipt.tps_scaled1000, receipt.input_tokens, receipt.output_tokens) == (
        200, 15_000, 120, 60)
    assert receipt.chain_id == 31337
    assert len(receipt.encode()) == 224


def test_a_receipt_for_an_unused_session_is_all_zero_stats() -> None:
    receipt = SessionUsage().receipt(b"\x01" * 32, 1)
    assert (receipt.ttft_ms, receipt.tps_scaled1000, receipt.input_tokens, receipt.output_tokens) == (0, 0, 0, 0)


def test_the_continuation_keeps_every_turn_and_adds_the_partial_answer() -> None:
    history = [{"role": "system", "content": "be brief"}, {"role": "user", "content": "q"}]

    resent = continuation_messages(history, "half an ans")

    assert resent[:2] == history
    assert resent[2:] == [{"role": "assistant", "content": "half an ans"},
                          {"role": "user", "content": CONTINUE_INSTRUCTION}]
    assert continuation_messages(history, "") == history


def test_content_is_read_from_stream_deltas_and_full_completions_alike() -> None:
    assert content_of({"choices": [{"delta": {"content": "a"}}, {"delta": {"content": "b"}}]}) == "ab"
    assert content_of({"choices": [{"message": {"role": "assistant", "content": "full"}}]}) == "full"
    assert content_of({"choices": [{"delta": {"role": "assistant"}}]}) == ""
    assert content_of("[DONE]") == ""


def test_answer_cost_is_price_times_wall_seconds() -> None:
    stats = AnswerStats(started=100.0, first_token_at=100.5, ended=102.0, output_tokens=30)
    assert stats.cost_wei(10**14) == 2 * 10**14
    assert stats.ttft_ms == 500.0
    assert stats.tps == 20.0
