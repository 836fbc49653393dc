"""Per-request measurements of an LLM backend call: time to first token, output tokens, tokens/s."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass
class RequestStats:
    """What one chat request cost the backend; filled in while the answer streams.

    ``ttft_ms`` is measured from sending the request to the first item carrying generated output.
    ``output_tokens`` comes from the backend's ``usage`` when it reports one (``usage_reported``),
    else it is the number of content deltas (one token each on llama.cpp, vLLM and Ollama).
    ``tps`` is output tokens over the whole wall time, as upstream's ``tpsScaled1000`` is.
    """

    ttft_ms: float | None = None
    output_tokens: int = 0
    input_tokens: int | None = None
    wall_ms: float = 0.0
    finish_reason: str | None = None
    usage_reported: bool = False
    started_at: float = field(default_factory=time.monotonic, repr=False)

    @property
    def tps(self) -> float:
        """Output tokens per second of wall time (0 when nothing was measured)."""
        seconds = self.wall_ms / 1000
        return self.output_tokens / seconds if seconds > 0 else 0.0


class StatsMeter:
    """Updates a :class:`RequestStats` from the items of one backend answer."""

    def __init__(self, stats: RequestStats) -> None:
        self.stats = stats
        self._counted_deltas = 0
        stats.started_at = time.monotonic()

    @property
    def finished(self) -> bool:
        """True once a chunk with a ``finish_reason`` was seen."""
        return self.stats.finish_reason is not None

    def chunk(self, chunk: Mapping[str, Any]) -> None:
        """Record one ``chat.completion.chunk``."""
        for choice in _choices(chunk):
            delta = choice.get("delta")
            if isinstance(delta, Mapping) and _has_output(delta):
                self._first_token()
                self._counted_deltas += 1
            if choice.get("finish_reason"):
                self.stats.finish_reason = str(choice["finish_reason"])
        self._usage(chunk)
        if not self.stats.usage_reported:
            self.stats.output_tokens = self._counted_deltas

    def completion(self, completion: Mapping[str, Any]) -> None:
        """Record a whole non-streamed ``chat.completion``."""
        self._first_token()
        words = 0
        for choice in _choices(completion):
            message = choice.get("message")
            if isinstance(message, Mapping) and isinstance(message.get("content"), str):
                # Without ``usage`` the best estimate we have is one token per word.
                words += len(message["content"].split())
            if choice.get("finish_reason"):
                self.stats.finish_reason = str(choice["finish_reason"])
        self._usage(completion)
        if not self.stats.usage_reported:
            self.stats.output_tokens = words

    def finish(self) -> None:
        """Stamp the wall time; call once when the answer ended (or failed)."""
        self.stats.wall_ms = (time.monotonic() - self.stats.started_at) * 1000

    def _first_token(self) -> None:
        if self.stats.ttft_ms is None:
            self.stats.ttft_ms = (time.monotonic() - self.stats.started_at) * 1000

    def _usage(self, item: Mapping[str, Any]) -> None:
        usage = item.get("usage")
        if not isinstance(usage, Mapping):
            return
        completion_tokens = usage.get("completion_tokens")
        if isinstance(completion_tokens, int):
            self.stats.output_tokens = completion_tokens
            self.stats.usage_reported = True
        prompt_tokens = usage.get("prompt_tokens")
        if isinstance(prompt_tokens, int):
            self.stats.input_tokens = prompt_tokens


def _choices(item: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    choices = item.get("choices")
    if not isinstance(choices, list):
        return []
    return [c for c in choices if isinstance(c, Mapping)]


def _has_output(delta: Mapping[str, Any]) -> bool:
    return any(bool(delta.get(key)) for key in ("content", "reasoning_content", "tool_calls"))
