"""What the chat view consumes: an async iterator of text deltas, inline notices and one receipt per answer.

The chat pane knows nothing about MOR-RPC or HTTP: anything that implements ``ChatBackend`` can answer (the
consumer service over a session, the local model without one, a test backend). Cancelling the iteration (Stop)
must cancel the request end to end; adapters close their connection in ``finally``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

from app.errors import PeerError
from app.router.provider.backend_stats import RequestStats
from app.router.provider.backends import OpenAIBackend
from app.storage.records import CachedSession


@dataclass(frozen=True, slots=True)
class Notice:
    """A line shown inline in the answer, e.g. 'provider 0xAb… failed after 8 s; continued on 0xCd…'."""

    text: str


@dataclass(frozen=True, slots=True)
class AnswerReceipt:
    """What one answer cost and how fast it came (the backend sends it last)."""

    provider: str
    session_id: str | None
    input_tokens: int
    output_tokens: int
    ttft_ms: float | None
    tps: float
    cost_wei: int
    model_id: str | None = None
    bid_id: str | None = None


StreamItem = str | Notice | AnswerReceipt


@dataclass(frozen=True, slots=True)
class ChatTarget:
    """Where a chat's prompts go: an open session, or the local model without a session."""

    kind: Literal["session", "local"]
    model_id: str
    label: str
    session: CachedSession | None = None


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One turn: the whole conversation so far (providers keep no history) and the chat's parameters."""

    target: ChatTarget
    messages: list[dict[str, str]]
    temperature: float | None = None
    max_tokens: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        """The OpenAI chat-completions request body."""
        body: dict[str, Any] = {"messages": self.messages, "stream": True, **self.extra}
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if self.max_tokens is not None:
            body["max_tokens"] = self.max_tokens
        return body


class ChatBackend(Protocol):
    """Streams one answer; the chat pane iterates it inside a task that Stop cancels."""

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamItem]: ...


def delta_of(item: object) -> str:
    """The text an OpenAI stream chunk carries ('' for role, finish and usage chunks)."""
    if not isinstance(item, dict):
        return ""
    parts: list[str] = []
    for choice in item.get("choices") or ():
        holder = choice.get("delta") or choice.get("message") if isinstance(choice, dict) else None
        if isinstance(holder, dict) and isinstance(holder.get("content"), str):
            parts.append(holder["content"])
    return "".join(parts)


class LocalModelBackend:
    """Chats with an OpenAI-compatible server directly (the local model, no session, no cost)."""

    def __init__(self, backend: OpenAIBackend, label: str = "local model") -> None:
        self.backend = backend
        self.label = label

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamItem]:
        """Yield the backend's text deltas, then a receipt with its measured numbers."""
        stats = RequestStats()
        # aclosing: a cancelled or abandoned answer closes the HTTP response, so the server stops generating.
        async with aclosing(self.backend.stream_chat(request.body(), stats=stats)) as items:
            async for item in items:
                text = delta_of(item)
                if text:
                    yield text
        yield AnswerReceipt(
            provider=self.label, session_id=None, input_tokens=stats.input_tokens or 0,
            output_tokens=stats.output_tokens, ttft_ms=stats.ttft_ms, tps=stats.tps, cost_wei=0,
            model_id=request.target.model_id,
        )


class RoutedBackend:
    """Sends session targets to the consumer side and local targets to the local model."""

    def __init__(self, session_backend: ChatBackend | None, local: ChatBackend | None) -> None:
        self.session_backend = session_backend
        self.local = local

    def stream(self, request: ChatRequest) -> AsyncIterator[StreamItem]:
        backend = self.local if request.target.kind == "local" else self.session_backend
        if backend is None:
            return _fail(f"No backend for {request.target.label}: "
                         + ("start the local model in Settings." if request.target.kind == "local"
                            else "unlock the wallet so the node can use sessions."))
        return backend.stream(request)


async def _fail(message: str) -> AsyncIterator[StreamItem]:
    if message:  # always true; the yield below makes this an async generator, so the error surfaces on iteration
        raise PeerError(message)
    yield ""
