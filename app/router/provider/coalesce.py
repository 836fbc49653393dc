"""Adaptive batching: consecutive text deltas that arrived together leave the provider as one chunk.

Every streamed MOR-RPC response costs an ECIES encryption and a signature here (~0.2 ms of CPU) and a verification
and decryption at the consumer. When the provider falls behind (a slow or starved CPU, many streams, a consumer
that reads slowly), backend chunks pile up in the socket buffer; relaying them one by one keeps that backlog and
its latency for the rest of the answer. Merging the chunks that one read returned is adaptive: a provider that
keeps up sends one chunk per token as before, one that falls behind sends fewer, larger chunks and catches up.
The controller merges only while it is behind (``CONGESTED_S``): a bursty backend read by an idle provider is
relayed chunk by chunk.

OpenAI semantics are kept: a ``chat.completion.chunk`` delta may carry several tokens' text. Only plain text
deltas (``content`` or ``reasoning_content`` alone, one choice, no finish reason, logprobs or usage) whose other
fields are identical are merged; role, tool-call, finish, usage chunks and ``[DONE]`` pass through untouched and
in order.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

from app.router.provider.backends import BackendItem

__all__ = ["MAX_MERGED_CHARS", "coalesce"]

MAX_MERGED_CHARS: Final = 16 * 1024
"""A merged chunk stops growing at this many characters, so no single response becomes large."""

_TEXT_FIELDS: Final = ("content", "reasoning_content")
_CHUNK: Final = "chat.completion.chunk"


def _text_delta(item: BackendItem) -> tuple[str, str] | None:
    """``(field, text)`` when ``item`` is a chunk carrying nothing but text in one field of one choice."""
    if not isinstance(item, dict) or item.get("object") != _CHUNK or item.get("usage") is not None:
        return None
    choices = item.get("choices")
    if not isinstance(choices, list) or len(choices) != 1:
        return None
    choice = choices[0]
    if not isinstance(choice, dict) or choice.get("index", 0) != 0:
        return None
    if choice.get("finish_reason") is not None or choice.get("logprobs") is not None:
        return None
    if set(choice) - {"index", "delta", "finish_reason", "logprobs"}:
        return None
    delta = choice.get("delta")
    if not isinstance(delta, dict) or len(delta) != 1:
        return None
    field, text = next(iter(delta.items()))
    if field not in _TEXT_FIELDS or not isinstance(text, str):
        return None
    return field, text


def _same_envelope(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Same id, model, created, fingerprint…: everything but the choices."""
    return a.keys() == b.keys() and all(a[k] == b[k] for k in a if k != "choices")


def _with_text(item: dict[str, Any], field: str, text: str) -> dict[str, Any]:
    choice = dict(item["choices"][0])
    choice["delta"] = {field: text}
    return {**item, "choices": [choice]}


def coalesce(items: Sequence[BackendItem]) -> list[BackendItem]:
    """``items`` with each run of mergeable consecutive text deltas replaced by one chunk holding their text."""
    if len(items) < 2:
        return list(items)
    out: list[BackendItem] = []
    run: tuple[dict[str, Any], str, list[str], int] | None = None  # (first chunk, field, texts, length)

    def flush() -> None:
        if run is not None:
            first, field, texts, _ = run
            out.append(first if len(texts) == 1 else _with_text(first, field, "".join(texts)))

    for item in items:
        text_delta = _text_delta(item)
        if text_delta is None:
            flush()
            run = None
            out.append(item)
            continue
        assert isinstance(item, dict)
        field, text = text_delta
        if (
            run is not None
            and run[1] == field
            and run[3] + len(text) <= MAX_MERGED_CHARS
            and _same_envelope(run[0], item)
        ):
            run[2].append(text)
            run = (run[0], field, run[2], run[3] + len(text))
            continue
        flush()
        run = (item, field, [text], len(text))
    flush()
    return out
