"""Adapters from the consumer side of the router (ConsumerService) to the chat pane's small interfaces."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing

from app.gui.chat.receipt_text import short_hex
from app.gui.chat.stream import AnswerReceipt, ChatRequest, Notice, StreamItem
from app.router.consumer.failover import NEW_SESSION_PREFIX, ChunkItem, ControlItem, Segment
from app.router.consumer.prompt import content_of
from app.router.consumer.service import ConsumerService
from app.router.ports import MarketplacePort
from app.storage.records import CachedSession

_MODEL_PAGE = 100


class ConsumerChatBackend:
    """Streams a session answer through ConsumerService's failover loop; the pane stores turns and receipts."""

    def __init__(self, service: ConsumerService) -> None:
        self.service = service

    async def stream(self, request: ChatRequest) -> AsyncIterator[StreamItem]:
        """Text deltas; a notice when failover moved the answer to another provider; the combined receipt."""
        session = request.target.session
        if session is None:
            raise ValueError("ConsumerChatBackend only serves session targets")
        segments: list[Segment] = []

        async def record(segment: Segment) -> None:
            segments.append(segment)

        body = request.body()
        body.pop("messages", None)
        provider = session.provider
        items = self.service.failover.run(session, request.messages, body, failover=session.failover,
                                          record=record)
        async with aclosing(items):
            async for item in items:
                if isinstance(item, ChunkItem):
                    text = content_of(item.data)
                    if text:
                        yield text
                elif isinstance(item, ControlItem) and item.text.startswith(NEW_SESSION_PREFIX):
                    new = await self.service.sessions_manager.get(item.text.removeprefix(NEW_SESSION_PREFIX))
                    failed = next((s for s in reversed(segments) if s.session.provider == provider), None)
                    after = f" after {failed.stats.wall_s:.0f} s" if failed is not None else ""
                    yield Notice(f"provider {short_hex(provider)} failed{after}; continued on "
                                 f"{short_hex(new.provider)}")
                    provider = new.provider
        if segments:
            yield _combined(segments, request.target.model_id)


def _combined(segments: list[Segment], model_id: str) -> AnswerReceipt:
    last = segments[-1]
    return AnswerReceipt(
        provider=last.session.provider, session_id=last.session.id,
        input_tokens=sum(s.stats.input_tokens for s in segments),
        output_tokens=sum(s.stats.output_tokens for s in segments),
        ttft_ms=segments[0].stats.ttft_ms, tps=last.stats.tps,
        cost_wei=sum(s.stats.cost_wei(s.session.price_per_second_wei) for s in segments),
        model_id=model_id, bid_id=last.session.bid_id,
    )


class ConsumerSessions:
    """The chat's SessionControl: our open sessions, Close, and model names read from chain."""

    def __init__(self, service: ConsumerService, diamond: MarketplacePort) -> None:
        self.service = service
        self.diamond = diamond
        self._names: dict[str, str] = {}

    async def open_sessions(self) -> list[CachedSession]:
        return await self.service.sessions()

    async def close_session(self, session_id: str) -> None:
        await self.service.close_session(session_id)

    async def model_names(self) -> dict[str, str]:
        """Active models by id (lower-case hex) → name; cached after the first read."""
        if not self._names:
            offset = 0
            while True:
                page = await self.diamond.active_model_ids(offset, _MODEL_PAGE)
                for model_id in page.items:
                    model = await self.diamond.get_model(model_id)
                    self._names["0x" + model_id.hex()] = model.name
                offset += len(page.items)
                if not page.items or offset >= page.total:
                    break
        return dict(self._names)
