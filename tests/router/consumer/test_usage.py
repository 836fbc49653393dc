"""The consumer's token estimates and the usage fields it stamps on the chunks that end an answer."""

from __future__ import annotations

from typing import Any

from app.router.consumer.usage import UsageCounter, prompt_tokens, text_tokens


def _chunk(content: str | None = None, finish: str | None = None) -> dict[str, Any]:
    delta = {} if content is None else {"content": content}
    return {"object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}


def test_text_is_estimated_at_four_characters_per_token_rounded_up() -> None:
    assert [text_tokens(t) for t in ("", "a", "abcd", "abcde")] == [0, 1, 1, 2]


def test_prompt_counts_role_and_framing_per_message_and_only_text_parts() -> None:
    messages = [
        {"role": "system", "content": "be brief"},  # 1 + 2 + 3
        {"role": "user", "content": [{"type": "text", "text": "what is this"},
                                     {"type": "image_url", "image_url": {"url": "data:..."}}]},  # 1 + 3 + 3
        {"role": "user", "name": "ann", "content": "hi"},  # 1 + 1 + 3 + 1
    ]
    assert prompt_tokens(messages) == 6 + 7 + 6


def test_only_the_chunks_that_end_the_answer_carry_usage() -> None:
    counter = UsageCounter.for_request({"messages": [{"role": "user", "content": "tell me a joke"}]})
    items = [counter.observe(c) for c in (_chunk(), _chunk("Hello"), _chunk(" there"), _chunk(finish="stop"))]

    assert [("usage_from_consumer" in i) for i in items] == [False, False, False, True]
    assert items[-1]["usage_from_consumer"] == {"prompt_tokens": 8, "completion_tokens": 3, "total_tokens": 11}
    assert "usage_from_provider" not in items[-1]


def test_a_streamed_answer_counts_at_least_one_token_per_content_chunk() -> None:
    counter = UsageCounter(prompt=0)
    for token in ("a", "b", "c"):
        counter.observe(_chunk(token))
    assert counter.completion == 3  # 3 characters would estimate 1


def test_the_providers_usage_chunk_is_copied_to_usage_from_provider_beside_ours() -> None:
    counter = UsageCounter(prompt=5)
    counter.observe(_chunk("Hello, world!"))
    counter.observe(_chunk(finish="stop"))
    usage = {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}

    last = counter.observe({"object": "chat.completion.chunk", "choices": [], "usage": dict(usage)})

    assert last["usage"] == usage  # the backend's own block is left as it was
    assert last["usage_from_provider"] == usage
    assert last["usage_from_consumer"] == {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}


def test_a_go_providers_own_usage_from_provider_wins_over_the_backend_usage() -> None:
    counter = UsageCounter(prompt=1)
    item = counter.observe({**_chunk(finish="stop"), "usage": {"prompt_tokens": 1, "completion_tokens": 1},
                            "usage_from_provider": {"prompt_tokens": 7, "completion_tokens": 2}})
    assert item["usage_from_provider"] == {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9}


def test_a_whole_completion_is_estimated_from_its_text() -> None:
    counter = UsageCounter(prompt=2)
    completion = counter.observe({"object": "chat.completion", "choices": [
        {"index": 0, "message": {"role": "assistant", "content": "x" * 40}, "finish_reason": "stop"}]})
    assert completion["usage_from_consumer"] == {"prompt_tokens": 2, "completion_tokens": 10, "total_tokens": 12}


def test_control_strings_pass_through_untouched() -> None:
    assert UsageCounter(prompt=0).observe("[DONE]") == "[DONE]"
