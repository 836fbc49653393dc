"""ConsumerService: the one object the HTTP API and the GUI use for the consumer side of the router.

Build it once the wallet is unlocked (it needs the signer and a Diamond/MOR token that can send), ``await start()``
(rehydrates our open sessions from chain and starts the once-a-minute expiry closer), and ``await stop()`` on
shutdown or lock. ``chat`` yields :class:`ChunkItem` (an OpenAI chunk: write ``data: <json>``) and
:class:`ControlItem` (write ``data: <string>``); the caller writes the final ``data: [DONE]``. Each answer is
stored in the chat with a receipt (provider, bid, session, tokens, TTFT, TPS, cost share, failover note).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncGenerator, AsyncIterable, Collection
from contextlib import aclosing
from dataclasses import dataclass
from typing import Any

from app.config.rating_config import RatingConfig
from app.config.settings import Settings
from app.errors import PeerError
from app.events import EventBus
from app.router.consumer.client import Endpoint, MorRpcClient, PingResult
from app.router.consumer.events import AnswerFinished
from app.router.consumer.failover import (
    NEW_SESSION_PREFIX,
    ChatItem,
    ChunkItem,
    ControlItem,
    FailoverChat,
    Segment,
)
from app.router.consumer.market import DEFAULT_COOLDOWN_S, Market, MarketSnapshot
from app.router.consumer.prompt import PromptSender
from app.router.consumer.sessions import CloseResult, SessionEventLike, SessionManager
from app.router.ports import ChainInfo, MarketplacePort, TokenPort
from app.signer import Signer
from app.storage.records import CachedSession, Receipt
from app.storage.store import AsyncStorage
from app.tasks import TaskSupervisor

__all__ = ["ChatItem", "ChunkItem", "ConsumerService", "ConsumerSettings", "ControlItem"]

log = logging.getLogger(__name__)

DEFAULT_SESSION_S = 3600
EXPIRY_INTERVAL_S = 60.0


@dataclass(frozen=True, slots=True)
class ConsumerSettings:
    """The consumer's knobs (from FAILOVER_ENABLED, CNODE_PNODE_TIMEOUT, CNODE_PNODE_MAX_RETRIES)."""

    failover_enabled: bool = True
    first_message_timeout_s: float = 90.0
    max_failovers: int = 3
    cooldown_s: float = DEFAULT_COOLDOWN_S
    default_session_s: int = DEFAULT_SESSION_S

    @classmethod
    def from_settings(cls, settings: Settings) -> ConsumerSettings:
        """Take the values from the node settings."""
        return cls(
            failover_enabled=settings.failover_enabled,
            first_message_timeout_s=settings.cnode_pnode_timeout.total_seconds(),
            max_failovers=settings.cnode_pnode_max_retries,
        )


def _title(messages: list[dict[str, Any]]) -> str:
    for m in messages:
        if m.get("role") == "user" and isinstance(m.get("content"), str):
            return str(m["content"]).strip().splitlines()[0][:80] if m["content"].strip() else "Chat"
    return "Chat"


def _new_session(item: ChatItem) -> str | None:
    """The session a failover moved the chat to, when ``item`` announces one."""
    if isinstance(item, ControlItem) and item.text.startswith(NEW_SESSION_PREFIX):
        return item.text.removeprefix(NEW_SESSION_PREFIX)
    return None


def _log_failed_write(task: asyncio.Future[str]) -> None:
    """Done-callback of a chat write nobody awaits any more (the answer was abandoned): log, don't lose, errors."""
    if not task.cancelled() and task.exception() is not None:
        log.warning("storing the user's turn failed: %s", task.exception())


class ConsumerService:
    """Rank bids, open/close sessions and chat through providers for one wallet."""

    def __init__(
        self,
        signer: Signer,
        diamond: MarketplacePort,
        token: TokenPort,
        chain: ChainInfo,
        storage: AsyncStorage,
        *,
        bus: EventBus | None = None,
        rating_config: RatingConfig | None = None,
        settings: ConsumerSettings | None = None,
    ) -> None:
        self.settings = settings or ConsumerSettings()
        self.bus = bus or EventBus()
        self.storage = storage
        self.client = MorRpcClient(signer, first_message_timeout=self.settings.first_message_timeout_s)
        self.market = Market(diamond, chain, storage=storage, rating_config=rating_config,
                             own_address=signer.address, cooldown_s=self.settings.cooldown_s)
        self.sessions_manager = SessionManager(signer, diamond, token, chain, self.client, self.market, storage,
                                               bus=self.bus)
        self.sender = PromptSender(self.client, self.sessions_manager)
        self.failover = FailoverChat(self.sessions_manager, self.sender, max_switches=self.settings.max_failovers,
                                     bus=self.bus)
        self.tasks = TaskSupervisor("consumer")

    # -- lifecycle -----------------------------------------------------------------------------------------------
    async def start(self, *, expiry_interval_s: float = EXPIRY_INTERVAL_S,
                    chain_events: AsyncIterable[SessionEventLike] | None = None) -> int:
        """Rehydrate our open sessions from chain and start the expiry closer; returns the open-session count.

        ``chain_events`` (the session event watcher's ``events()``) keeps the session cache in step with the chain.
        """
        found = await self.sessions_manager.rehydrate()
        self.tasks.spawn(self.sessions_manager.run_expiry(expiry_interval_s), name="session-expiry")
        if chain_events is not None:
            self.tasks.spawn(self.sessions_manager.follow_chain_events(chain_events), name="session-events")
        return found

    async def stop(self) -> None:
        """Stop background work (sessions stay open on chain; the next start picks them up)."""
        await self.tasks.close()

    # -- market and sessions -------------------------------------------------------------------------------------
    async def ranked_bids(self, model_id: str | bytes, *, omit: Collection[str] = ()) -> MarketSnapshot:
        """The model's bids, best first, with every rating input."""
        model = model_id if isinstance(model_id, bytes) else bytes.fromhex(model_id.removeprefix("0x"))
        return await self.market.snapshot(model, omit=omit)

    async def open_session(
        self,
        model_id: str | None = None,
        *,
        bid_id: str | None = None,
        duration_s: int | None = None,
        direct: bool = False,
        omit: Collection[str] = (),
        failover: bool | None = None,
    ) -> CachedSession:
        """Open by model (ranked bids, ``omit`` skipped) or, with ``bid_id``, on that bid."""
        duration = duration_s or self.settings.default_session_s
        flag = self.settings.failover_enabled if failover is None else failover
        if bid_id:
            return await self.sessions_manager.open_by_bid(bid_id, duration, direct=direct, failover=flag)
        if not model_id:
            raise PeerError("Say which model to open a session for (model id) or which bid (bid id).")
        return await self.sessions_manager.open_by_model(model_id, duration, direct=direct, omit=omit,
                                                         failover=flag)

    async def close_session(self, session_id: str) -> CloseResult:
        """Close a session (provider report, or a self-signed dispute receipt when it is unreachable)."""
        return await self.sessions_manager.close(session_id)

    async def sessions(self) -> list[CachedSession]:
        """Our open sessions."""
        return await self.sessions_manager.open_sessions()

    async def ping(self, provider: str, endpoint: str) -> PingResult:
        """Ping a provider's MOR-RPC endpoint (checks the nonce and the pong's signer)."""
        return await self.client.ping(Endpoint.parse(endpoint, provider), provider)

    async def withdraw_user_stakes(self, iterations: int = 255) -> str:
        """Withdraw stakes released from early-close holds; returns the transaction hash."""
        return await self.sessions_manager.withdraw_user_stakes(iterations)

    async def claim_for_provider(self, session_id: str) -> str:
        """Pay the provider of a session what it earned so far; returns the transaction hash."""
        return await self.sessions_manager.claim_for_provider(session_id)

    # -- chat ----------------------------------------------------------------------------------------------------
    async def chat(
        self,
        *,
        prompt: str | None = None,
        messages: list[dict[str, Any]] | None = None,
        chat_id: str | None = None,
        session_id: str | None = None,
        model_id: str | None = None,
        failover: bool | None = None,
        params: dict[str, Any] | None = None,
        duration_s: int | None = None,
        store: bool = True,
    ) -> AsyncGenerator[ChatItem, None]:
        """Send a turn and stream the answer.

        Either ``prompt`` (a new user turn of the stored chat ``chat_id``: its system prompt and whole history are
        sent too) or ``messages`` (the full conversation, as an OpenAI client sends it). The session is
        ``session_id``, else the chat's open session, else a new one opened by ``model_id``. Failover follows
        ``failover`` when given, else the session's own flag (FAILOVER_ENABLED when it was opened). With
        ``store=False`` nothing is written to the chat history (local provider stats are still kept).
        """
        chat = await self.storage.run(self.storage.sync.chats.get_chat, chat_id) if chat_id else None
        if chat_id and chat is None:
            raise PeerError(f"No chat with id {chat_id}; start a new chat.")
        if prompt is not None:
            conversation = await self._history(chat.id if chat else None, prompt)
        elif messages:
            conversation = list(messages)
        else:
            raise PeerError("Nothing to send: give a prompt or the conversation's messages.")
        session = await self._session_for(session_id, chat.session_id if chat else None,
                                          model_id or (chat.model_id if chat else None), duration_s, failover)
        # The chat row and the user turn are written while the prompt travels, not before it (time to first
        # token); anything that needs the chat awaits the write, so the history keeps its order.
        prepared = asyncio.ensure_future(self._prepare_chat(
            chat.id if chat else None, chat.session_id if chat else None, conversation, session)) if store else None

        async def chat_key() -> str | None:
            return await prepared if prepared is not None else None

        async def record(segment: Segment) -> None:
            await self._record(await chat_key(), segment)

        body = {"stream": True, **(params or {})}
        body.pop("messages", None)
        flag = session.failover if failover is None else failover
        items = self.failover.run(session, conversation, body, failover=flag, record=record)
        awaited = False
        try:
            async with aclosing(items):
                async for item in items:
                    moved_to = _new_session(item)
                    if prepared is not None and moved_to:
                        await self.storage.run(self.storage.sync.chats.update_chat, await prepared, session_id=moved_to)
                    yield item
            awaited = True
            await chat_key()  # a failed history write is reported even when no answer was recorded
        finally:
            if prepared is not None and not awaited:
                prepared.add_done_callback(_log_failed_write)  # abandoned or failed answer: still finish, log

    async def _prepare_chat(self, chat_id: str | None, chat_session: str | None, conversation: list[dict[str, Any]],
                            session: CachedSession) -> str:
        """The chat the turn is stored in (created when absent), pointed at the session, with the user turn."""
        store = self.storage.sync
        if chat_id is None:
            chat_id = (await self.storage.run(store.chats.create_chat, _title(conversation), session.model_id,
                                              session_id=session.id)).id
        elif chat_session != session.id:
            await self.storage.run(store.chats.update_chat, chat_id, session_id=session.id)
        last = conversation[-1]
        if last.get("role") == "user" and isinstance(last.get("content"), str):
            await self.storage.run(store.chats.add_message, chat_id, "user", last["content"])
        return chat_id

    async def _history(self, chat_id: str | None, prompt: str) -> list[dict[str, Any]]:
        """System prompt + every stored turn + the new prompt: providers keep no context, so all of it goes."""
        conversation: list[dict[str, Any]] = []
        if chat_id:
            chat = await self.storage.run(self.storage.sync.chats.get_chat, chat_id)
            if chat is not None and chat.system_prompt:
                conversation.append({"role": "system", "content": chat.system_prompt})
            for m in await self.storage.run(self.storage.sync.chats.messages, chat_id):
                conversation.append({"role": m.role, "content": m.content})
        conversation.append({"role": "user", "content": prompt})
        return conversation

    async def _session_for(self, session_id: str | None, chat_session: str | None, model_id: str | None,
                           duration_s: int | None, failover: bool | None) -> CachedSession:
        if session_id:
            return await self.sessions_manager.get(session_id)
        if chat_session:
            cached = await self.storage.run(self.storage.sync.sessions.get, chat_session)
            open_ids = {s.id for s in await self.sessions()}
            if cached is not None and cached.id in open_ids:
                return cached
        if not model_id:
            raise PeerError("No session to send to: open a session or say which model to use.")
        return await self.open_session(model_id, duration_s=duration_s, failover=failover)

    async def _record(self, chat_id: str | None, segment: Segment) -> None:
        store = self.storage.sync
        s, stats = segment.session, segment.stats
        cost = stats.cost_wei(s.price_per_second_wei)
        if chat_id is None:
            self.bus.publish(AnswerFinished(s.id, s.provider, None, stats.input_tokens, stats.output_tokens,
                                            stats.ttft_ms, stats.tps, cost, segment.complete))
            return
        message = await self.storage.run(store.chats.add_message, chat_id, "assistant", stats.text)
        await self.storage.run(store.receipts.save, Receipt(
            message_id=message.id, provider=s.provider, bid_id=s.bid_id, session_id=s.id, model_id=s.model_id,
            input_tokens=stats.input_tokens, output_tokens=stats.output_tokens, ttft_ms=stats.ttft_ms,
            tps=stats.tps, cost_wei=cost, failover_note=segment.note,
        ))
        self.bus.publish(AnswerFinished(s.id, s.provider, message.id, stats.input_tokens, stats.output_tokens,
                                        stats.ttft_ms, stats.tps, cost, segment.complete))
