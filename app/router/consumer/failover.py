"""Chat with server-side failover (spec §5.7): when a provider fails, continue the answer on the next-best one.

Triggers: connection refused, timeout before the first token, a backend error, the connection closing mid-answer,
a bad signature (every ``ProviderFailure``). On one: the failure goes into the local stats (which starts the
provider's cool-down), the control message ``provider failed, failover enabled`` is emitted, the failed session is
closed (self-signed receipt when the provider cannot report), a new session is opened by model for the remaining
duration without the failed providers, ``new session opened: 0x…`` is emitted, and the full conversation plus the
text already streamed is sent again so the new provider continues the answer instead of starting over.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from app.errors import AppError
from app.events import EventBus
from app.router.consumer.client import DONE
from app.router.consumer.events import ProviderFailed
from app.router.consumer.failures import ProviderFailure
from app.router.consumer.prompt import AnswerStats, PromptSender
from app.router.consumer.sessions import MIN_SESSION_S, SessionManager
from app.storage.records import CachedSession, ProviderRequest, now_ms

__all__ = [
    "CONTINUE_INSTRUCTION",
    "FAILOVER_MESSAGE",
    "ChunkItem",
    "ControlItem",
    "FailoverChat",
    "Segment",
    "continuation_messages",
]

log = logging.getLogger(__name__)

FAILOVER_MESSAGE = "provider failed, failover enabled"
NEW_SESSION_PREFIX = "new session opened: "
CONTINUE_INSTRUCTION = (
    "Your previous answer was cut off by a connection failure. Continue it exactly where it stopped, "
    "without repeating any of it."
)


@dataclass(frozen=True, slots=True)
class ChunkItem:
    """An OpenAI chunk (or completion) from the provider: the API writes it as ``data: <json>``."""

    data: Any


@dataclass(frozen=True, slots=True)
class ControlItem:
    """A control string: the API writes it as ``data: <string>`` (failover notices)."""

    text: str


ChatItem = ChunkItem | ControlItem


@dataclass(frozen=True, slots=True)
class Segment:
    """The part of an answer one session produced: complete, cut by a failure, or stopped by the user."""

    session: CachedSession
    stats: AnswerStats
    complete: bool
    failure: ProviderFailure | None = None
    stopped: bool = False
    note: str | None = None


SegmentRecorder = Callable[[Segment], Awaitable[None]]


def continuation_messages(messages: list[dict[str, Any]], streamed: str) -> list[dict[str, Any]]:
    """The conversation to resend after a failure: everything, plus the partial answer as context."""
    if not streamed:
        return list(messages)
    return [*messages, {"role": "assistant", "content": streamed}, {"role": "user", "content": CONTINUE_INSTRUCTION}]


class FailoverChat:
    """Runs one chat request, switching sessions on provider failure when failover is on."""

    def __init__(self, sessions: SessionManager, sender: PromptSender, *, max_switches: int = 3,
                 bus: EventBus | None = None) -> None:
        self.sessions = sessions
        self.sender = sender
        self.max_switches = max_switches
        self.bus = bus or sessions.bus

    async def run(
        self,
        session: CachedSession,
        messages: list[dict[str, Any]],
        params: dict[str, Any],
        *,
        failover: bool,
        record: SegmentRecorder,
    ) -> AsyncGenerator[ChatItem, None]:
        """Yield the answer's items and control messages; ``record`` is awaited for every segment."""
        current = session
        omit: set[str] = set()
        streamed = ""
        note: str | None = None
        switches = 0
        while True:
            stats = AnswerStats()
            body = {**params, "messages": continuation_messages(messages, streamed)}
            finished = False
            try:
                async with aclosing(self.sender.stream(current, body, stats)) as items:
                    async for item in items:
                        if item != DONE:
                            yield ChunkItem(item)
                finished = True
            except (asyncio.CancelledError, GeneratorExit):
                # Stop: the socket is already closed (aclosing); keep what arrived as a partial answer.
                if stats.text:
                    await record(Segment(current, stats, False, stopped=True, note="stopped by the user"))
                raise
            except ProviderFailure as failure:
                await self._failed(current, failure, stats, will_switch=failover and switches < self.max_switches)
                if stats.text:
                    await record(Segment(current, stats, False, failure, note=f"{failure.user_message}"))
                if not failover or switches >= self.max_switches:
                    raise
                note = f"continued after provider {current.provider} failed ({failure.kind.name.lower()})"
            if finished:
                await self._succeeded(current, stats)
                await record(Segment(current, stats, True, note=note))
                return
            yield ControlItem(FAILOVER_MESSAGE)
            streamed += stats.text
            omit.add(current.provider.lower())
            await self._close_quietly(current)
            remaining = max(MIN_SESSION_S, current.ends_at - int(time.time()))
            current = await self.sessions.open_by_model(current.model_id, remaining, omit=omit, failover=True)
            switches += 1
            yield ControlItem(NEW_SESSION_PREFIX + current.id)

    async def _failed(self, session: CachedSession, failure: ProviderFailure, stats: AnswerStats,
                      *, will_switch: bool) -> None:
        log.warning("provider %s failed on session %s (%s): %s", session.provider, session.id, failure.kind.name,
                    failure.user_message)
        request = ProviderRequest(session.provider, session.model_id, now_ms(), False, failure.user_message[:300],
                                  stats.ttft_ms, None)
        await self.sessions.storage.run(self.sessions.storage.sync.provider_stats.record, request)
        self.bus.publish(ProviderFailed(session.provider, session.model_id, session.id, failure.kind.name.lower(),
                                        failure.user_message, will_switch))

    async def _succeeded(self, session: CachedSession, stats: AnswerStats) -> None:
        request = ProviderRequest(session.provider, session.model_id, now_ms(), True, "", stats.ttft_ms, stats.tps)
        await self.sessions.storage.run(self.sessions.storage.sync.provider_stats.record, request)

    async def _close_quietly(self, session: CachedSession) -> None:
        try:
            await self.sessions.close(session.id)
        except AppError as e:
            # The new session matters more than this close; the expiry task retries it later.
            log.warning("could not close failed session %s: %s", session.id, e.user_message)
