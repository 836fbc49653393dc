"""Token counts the consumer attaches to answers: ``usage_from_consumer`` and ``usage_from_provider`` (spec §3.3).

Upstream counts with the cl100k tokenizer; the node ships no tokenizer, so ``usage_from_consumer`` is an estimate
built the way upstream's own fallback is (``(len(text) + 3) // 4``, ~4 characters per token), with upstream's prompt
framing (1 token per role, 3 per message). A streamed answer counts at least one token per content chunk, since
llama.cpp, vLLM and OpenAI stream one token per chunk. ``usage_from_provider`` is the provider's own count: a Go
provider's ``usage_from_provider`` when it sends one, else the ``usage`` block it relayed from its backend.
Both are ``{"prompt_tokens", "completion_tokens", "total_tokens"}`` objects, added to every chunk that carries a
``finish_reason`` or ``usage`` and to a whole (non-streamed) completion; the original ``usage`` is left as is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["CONSUMER_KEY", "PROVIDER_KEY", "UsageCounter", "prompt_tokens", "text_tokens"]

CONSUMER_KEY = "usage_from_consumer"
PROVIDER_KEY = "usage_from_provider"


def text_tokens(text: str) -> int:
    """Estimated tokens of ``text`` (upstream's fallback: a token per 4 characters, rounded up)."""
    return (len(text) + 3) // 4


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # multi-part content: only the text parts count, as upstream
        return "".join(str(p.get("text", "")) for p in content if isinstance(p, dict) and p.get("type") == "text")
    return ""


def prompt_tokens(messages: Any) -> int:
    """Estimated prompt tokens of a chat request's messages (upstream's framing: +1 per role, +3 per message)."""
    if not isinstance(messages, list):
        return 0
    total = 0
    for m in messages:
        if not isinstance(m, dict):
            continue
        total += 1 + text_tokens(_content_text(m.get("content"))) + 3
        if isinstance(m.get("name"), str):
            total += text_tokens(m["name"])
    return total


def usage_object(prompt: int, completion: int) -> dict[str, int]:
    """The OpenAI usage shape."""
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _provider_usage(item: dict[str, Any]) -> dict[str, int] | None:
    for key in (PROVIDER_KEY, "usage"):
        usage = item.get(key)
        if isinstance(usage, dict):
            prompt, completion = usage.get("prompt_tokens"), usage.get("completion_tokens")
            if isinstance(prompt, int) and isinstance(completion, int):
                return usage_object(prompt, completion)
    return None


def _choices(item: dict[str, Any]) -> list[dict[str, Any]]:
    choices = item.get("choices")
    return [c for c in choices if isinstance(c, dict)] if isinstance(choices, list) else []


def _text(item: dict[str, Any]) -> str:
    parts: list[str] = []
    for choice in _choices(item):
        holder = choice.get("delta") if "delta" in choice else choice.get("message")
        if isinstance(holder, dict) and isinstance(holder.get("content"), str):
            parts.append(holder["content"])
    return "".join(parts)


def _is_final(item: dict[str, Any]) -> bool:
    return (item.get("object") == "chat.completion" or isinstance(item.get("usage"), dict)
            or any(c.get("finish_reason") for c in _choices(item)))


@dataclass
class UsageCounter:
    """Counts one request's tokens as its answer streams, and stamps the usage fields on the final chunks."""

    prompt: int
    content_chunks: int = 0
    chars: list[str] = field(default_factory=list)
    provider: dict[str, int] | None = None

    @classmethod
    def for_request(cls, body: dict[str, Any]) -> UsageCounter:
        """A counter for the request ``body`` (its ``messages`` are the prompt)."""
        return cls(prompt_tokens(body.get("messages")))

    @property
    def completion(self) -> int:
        """Estimated answer tokens so far: by characters, and never fewer than the content chunks streamed."""
        return max(self.content_chunks, text_tokens("".join(self.chars)))

    def observe(self, item: Any) -> Any:
        """Count ``item``; when it ends the answer, add ``usage_from_consumer`` (and the provider's count)."""
        if not isinstance(item, dict):
            return item
        text = _text(item)
        if text:
            self.chars.append(text)
            self.content_chunks += 1
        self.provider = _provider_usage(item) or self.provider
        if _is_final(item):
            item[CONSUMER_KEY] = usage_object(self.prompt, self.completion)
            if self.provider is not None:
                item[PROVIDER_KEY] = dict(self.provider)
        return item
