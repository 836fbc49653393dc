"""Send one chat request over a session and stream the answer, measuring TTFT, TPS and tokens as it goes.

The caller always passes the whole conversation (system prompt and every earlier turn): providers keep no history.
One request per session runs at a time (the provider enforces the same); a second one waits its turn. Cancelling
the iteration closes the MOR-RPC socket at once, so the provider cancels its backend request.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from app.router.consumer.client import DONE, Endpoint, MorRpcClient
from app.router.consumer.failures import FailureKind, ProviderFailure
from app.router.consumer.sessions import SessionManager, SessionUsage
from app.router.consumer.usage import UsageCounter
from app.storage.records import CachedSession

__all__ = ["AnswerStats", "PromptSender", "content_of"]

EXPIRY_GRACE_S = 5  # upstream counts a session as expired only once EndsAt + 5 < now


@dataclass
class AnswerStats:
    """What one provider streamed for one request; filled in while streaming, so a failure keeps the part."""

    started: float = 0.0
    first_token_at: float | None = None
    ended: float = 0.0
    text: str = ""
    input_tokens: int = 0
    output_tokens: int = 0
    usage_reported: bool = False

    @property
    def ttft_ms(self) -> float | None:
        return None if self.first_token_at is None else (self.first_token_at - self.started) * 1000

    @property
    def wall_s(self) -> float:
        return max(0.0, (self.ended or time.monotonic()) - self.started)

    @property
    def tps(self) -> float:
        """Output tokens per second of generation (from the first token on)."""
        if self.first_token_at is None or not self.output_tokens:
            return 0.0
        span = max((self.ended or time.monotonic()) - self.first_token_at, 1e-3)
        return self.output_tokens / span

    def cost_wei(self, price_per_second: int) -> int:
        """This answer's share of the session cost: price × wall seconds."""
        return int(price_per_second * self.wall_s)


def content_of(item: Any) -> str:
    """The text an OpenAI chunk or completion carries (empty for role-only, finish and usage chunks)."""
    if not isinstance(item, dict):
        return ""
    parts: list[str] = []
    for choice in item.get("choices") or ():
        if not isinstance(choice, dict):
            continue
        holder = choice.get("delta") if "delta" in choice else choice.get("message")
        if isinstance(holder, dict) and isinstance(holder.get("content"), str):
            parts.append(holder["content"])
    return "".join(parts)


def _estimate_tokens(messages: Any) -> int:
    # No tokenizer ships with the node; ~4 characters per token is the usual English estimate.
    text = json.dumps(messages, ensure_ascii=False) if messages else ""
    return max(1, len(text) // 4)


class PromptSender:
    """Streams prompts over sessions: one at a time per session, stats measured, session usage recorded."""

    def __init__(self, client: MorRpcClient, sessions: SessionManager) -> None:
        self.client = client
        self.sessions = sessions
        self._locks: dict[str, asyncio.Lock] = {}

    def lock(self, session_id: str) -> asyncio.Lock:
        """The per-session lock (one in-flight request per session)."""
        return self._locks.setdefault(session_id.lower(), asyncio.Lock())

    async def stream(
        self, session: CachedSession, body: dict[str, Any], stats: AnswerStats
    ) -> AsyncGenerator[Any, None]:
        """Yield the decrypted answer items of ``body`` sent over ``session``; ``stats`` is updated in place.

        The chunks that end the answer carry ``usage_from_consumer``/``usage_from_provider`` (see ``usage.py``).
        """
        if session.ends_at + EXPIRY_GRACE_S < time.time():
            raise ProviderFailure(f"Session {session.id} has expired; open a new session.", FailureKind.REJECTED,
                                  provider=session.provider)
        async with self.lock(session.id):
            key = await self.sessions.provider_key(session)
            endpoint = Endpoint.parse(session.provider_url, session.provider)
            message = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
            stats.input_tokens = _estimate_tokens(body.get("messages"))
            counter = UsageCounter.for_request(body)
            stats.started = time.monotonic()
            try:
                items = self.client.prompt(endpoint, session.provider, key, bytes.fromhex(session.id[2:]), message)
                async with aclosing(items):
                    async for item in items:
                        self._measure(item, stats)
                        yield counter.observe(item)
                        if item == DONE:
                            return
            finally:
                stats.ended = time.monotonic()
                usage = self.sessions.usage.setdefault(session.id, SessionUsage())
                usage.add(stats.ttft_ms, stats.tps, stats.input_tokens, stats.output_tokens)

    @staticmethod
    def _measure(item: Any, stats: AnswerStats) -> None:
        if stats.first_token_at is None:
            stats.first_token_at = time.monotonic()
        text = content_of(item)
        if text:
            stats.text += text
            if not stats.usage_reported:
                stats.output_tokens += 1  # one streamed chunk ≈ one token (llama.cpp, vLLM, OpenAI)
        usage = item.get("usage") if isinstance(item, dict) else None
        if isinstance(usage, dict):
            prompt_tokens, completion_tokens = usage.get("prompt_tokens"), usage.get("completion_tokens")
            if isinstance(prompt_tokens, int):
                stats.input_tokens = prompt_tokens
            if isinstance(completion_tokens, int):
                stats.output_tokens = completion_tokens
                stats.usage_reported = True
