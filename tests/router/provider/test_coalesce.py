"""Adaptive batching: which backend chunks merge, what the merged chunk looks like, and what is never touched."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from app.router.provider.backends import DONE, BackendItem
from app.router.provider.coalesce import MAX_MERGED_CHARS, coalesce


def chunk(delta: dict[str, Any], finish: str | None = None, **envelope: Any) -> dict[str, Any]:
    """A llama.cpp-shaped streamed chunk."""
    base = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m"}
    return {**base, **envelope, "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}


def text(t: str) -> dict[str, Any]:
    return chunk({"content": t})


def texts_of(items: list[BackendItem]) -> list[str]:
    return [i["choices"][0]["delta"].get("content", "") for i in items if isinstance(i, dict) and i.get("choices")]


ROLE = chunk({"role": "assistant"})
FINISH = chunk({}, "stop")
USAGE = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1700000000, "model": "m", "choices": [],
         "usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}}


def test_consecutive_text_chunks_become_one_chunk_with_their_text_in_order() -> None:
    merged = coalesce([text("Hello"), text(","), text(" world"), text("!")])
    assert merged == [text("Hello, world!")]


def test_role_finish_usage_and_done_stay_separate_and_in_place() -> None:
    items: list[BackendItem] = [ROLE, text("a"), text("b"), FINISH, USAGE, DONE]
    assert coalesce(items) == [ROLE, text("ab"), FINISH, USAGE, DONE]


def test_a_single_item_or_a_batch_without_runs_is_returned_unchanged() -> None:
    assert coalesce([text("a")]) == [text("a")]
    assert coalesce([ROLE, text("a"), FINISH, DONE]) == [ROLE, text("a"), FINISH, DONE]
    assert coalesce([]) == []


def test_the_inputs_are_not_modified() -> None:
    first, second = text("a"), text("b")
    coalesce([first, second])
    assert (first, second) == (text("a"), text("b"))


def test_chunks_of_different_answers_or_fields_are_not_merged() -> None:
    other_id = chunk({"content": "b"}, id="chatcmpl-2")
    reasoning = chunk({"reasoning_content": "think"})
    assert coalesce([text("a"), other_id]) == [text("a"), other_id]
    assert coalesce([text("a"), reasoning, chunk({"reasoning_content": "ing"})]) == [
        text("a"), chunk({"reasoning_content": "thinking"})]


def test_chunks_with_logprobs_tool_calls_or_several_choices_pass_through() -> None:
    with_logprobs = text("a")
    with_logprobs["choices"][0]["logprobs"] = {"content": [{"token": "a", "logprob": -0.1}]}
    tool_call = chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{"}}]})
    two_choices = text("x")
    two_choices["choices"].append({"index": 1, "delta": {"content": "y"}, "logprobs": None, "finish_reason": None})
    with_role = chunk({"role": "assistant", "content": "a"})
    for odd in (with_logprobs, tool_call, two_choices, with_role):
        assert coalesce([text("1"), odd, text("2")]) == [text("1"), odd, text("2")]


def test_a_merged_chunk_stops_growing_at_the_size_cap() -> None:
    piece = "x" * 1000
    n = MAX_MERGED_CHARS // 1000 + 5
    merged = coalesce([text(piece)] * n)
    assert len(merged) == 2
    assert all(len(t) <= MAX_MERGED_CHARS for t in texts_of(merged))
    assert "".join(texts_of(merged)) == piece * n


@given(st.lists(st.one_of(st.text(max_size=5).map(text), st.sampled_from([ROLE, FINISH, USAGE, DONE]),
                          st.text(max_size=5).map(lambda t: chunk({"reasoning_content": t})))))
def test_merging_keeps_every_character_and_every_other_item_in_order(items: list[BackendItem]) -> None:
    merged = coalesce(items)

    def stream_of(xs: list[BackendItem]) -> tuple[list[BackendItem], str, str]:
        others = [x for x in xs if x in (ROLE, FINISH, USAGE, DONE)]
        deltas = [x["choices"][0]["delta"] for x in xs if isinstance(x, dict) and x.get("choices")]
        return others, "".join(d.get("content", "") for d in deltas), "".join(
            d.get("reasoning_content", "") for d in deltas)

    assert stream_of(merged) == stream_of(items)
    assert len(merged) <= len(items)
