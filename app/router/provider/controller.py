"""The provider's MOR-RPC methods: ping, session request (approval), prompt relay and session report."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Awaitable, Callable
from contextlib import aclosing
from functools import partial
from typing import Any

from app import __version__
from app.config.models_config import ModelEntry
from app.errors import PeerError
from app.router.morrpc import signing
from app.router.morrpc.envelope import RpcRequest, encode_error, encode_result
from app.router.morrpc.gojson import encode_value
from app.router.morrpc.messages import (
    PingReq,
    PongRes,
    SessionPromptReq,
    SessionReportReq,
    SessionReportRes,
    SessionReq,
    SessionRes,
    parse_params,
)
from app.router.morrpc.prompt import seal_prompt_response
from app.router.morrpc.receipts import Approval, CloseoutReceipt, sign_personal
from app.router.morrpc.rpc_errors import (
    ERR_AUTH,
    ERR_CAPACITY,
    ERR_SESSION_CLOSED,
    ERR_SESSION_EXPIRED,
    encrypted_error,
)
from app.router.morrpc.structs import parse_hex
from app.router.ports import ChainInfo, MarketplacePort
from app.router.provider.backend_pool import BackendPool
from app.router.provider.backends import BackendError, RequestStats
from app.router.provider.capacity import has_capacity
from app.router.provider.coalesce import coalesce
from app.router.provider.relay_turns import RelayTurns, loop_turns
from app.router.provider.server import Send
from app.router.provider.sessions import PromptCheck, PromptStats, SessionState, SessionStore
from app.router.provider.user_keys import UserKeyStore
from app.signer import Signer

__all__ = ["CONGESTED_S", "ERR_NOT_OUR_BID", "ERR_NOT_OUR_SESSION", "VERSION", "ProviderController", "RequestRefused"]

log = logging.getLogger(__name__)

VERSION = f"morpheus-py/{__version__}"
ERR_NOT_OUR_BID = "The bid belongs to another provider; request the session from that provider."
ERR_NOT_OUR_SESSION = "The session belongs to another provider's bid; send its prompts to that provider."
ERR_REPLAYED_PROMPT = "This exact signed prompt was already received (a replayed message); sign and send a new one."
ERR_STALE_PROMPT = (
    "This prompt is stamped no later than prompts this session already let go of (a replayed message, or the "
    "consumer's clock went back); check the clock and send it again."
)
_U32 = (1 << 32) - 1
CONGESTED_S = 0.01
"""When relaying a chunk (seal + send + one loop turn, a wait for relay budget included) takes this long or longer
on average, the provider is behind and the chunks that piled up meanwhile are merged (adaptive batching). Below it
every backend chunk goes out on its own, so consumers that count one token per chunk keep counting right."""
_SMOOTHING = 0.25  # weight of the latest turn: one hiccup (a GC pass, a scheduler delay) does not switch merging on
_CHAT_TYPES = (None, "", "chat", "chat_completion")

DelegationCheck = Callable[[str, str], Awaitable[bool]]
"""``(delegatee, user) -> bool``: may ``delegatee``'s key act for ``user`` (session rights delegated)?"""


class RequestRefused(PeerError):
    """A request the provider will not serve; its message goes back to the consumer as a plaintext error."""


def _now_ms() -> int:
    return int(time.time() * 1000)


class ProviderController:
    """Dispatches one parsed MOR-RPC request to its method; every failure becomes an error object for the peer."""

    def __init__(
        self,
        signer: Signer,
        marketplace: MarketplacePort,
        chain: ChainInfo,
        backends: BackendPool,
        store: SessionStore | None = None,
        *,
        delegation: DelegationCheck | None = None,
        user_keys: UserKeyStore | None = None,
        session_refresh_s: float = 30.0,
        congested_s: float = CONGESTED_S,
        turns: RelayTurns | None = None,
        version: str = VERSION,
    ) -> None:
        self.signer = signer
        self.marketplace = marketplace
        self.chain = chain
        self.backends = backends
        self.store = store or SessionStore()
        self.delegation = delegation
        self.user_keys = user_keys
        self.session_refresh_s = session_refresh_s
        self.congested_s = congested_s
        self.version = version
        self._turns = turns
        self._last_approval_ms = 0

    @property
    def address(self) -> str:
        return self.signer.address

    @property
    def turns(self) -> RelayTurns:
        """What every stream seals its chunks through: a bounded amount per loop iteration, shared by the loop's
        providers unless one was given."""
        return self._turns or loop_turns()

    async def handle(self, request: RpcRequest, send: Send) -> None:
        """Serve ``request``; raises AppError (answered as a plaintext error by the server) when refused."""
        params = parse_params(request.method, request.params)
        if isinstance(params, PingReq):
            await self._ping(request.id, params, send)
        elif isinstance(params, SessionReq):
            await self._session_request(request.id, params, send)
        elif isinstance(params, SessionPromptReq):
            await self._prompt(request.id, params, send)
        elif isinstance(params, SessionReportReq):
            await self._report(request.id, params, send)
        else:
            raise RequestRefused(f"This provider does not support {request.method!r} (chat prompts only).")

    # -- network.ping -------------------------------------------------------------------------------------------
    async def _ping(self, request_id: str, req: PingReq, send: Send) -> None:
        pong = signing.sign(PongRes(nonce=req.nonce, version=self.version), self.signer)
        await send(encode_result(request_id, pong))

    # -- session.request ----------------------------------------------------------------------------------------
    async def _session_request(self, request_id: str, req: SessionReq, send: Send) -> None:
        if not signing.verify(req, req.key):
            raise RequestRefused(ERR_AUTH)
        key_owner = signing.public_key_to_address(req.key)
        if key_owner != req.user and not (self.delegation is not None and await self.delegation(key_owner, req.user)):
            raise RequestRefused(f"{ERR_AUTH}: the key is not {req.user}'s and holds no delegated session rights")
        bid = await self.marketplace.get_bid(req.bid_id)
        if not bid.is_active:
            raise RequestRefused(f"Bid 0x{req.bid_id.hex()} does not exist or was deleted; pick an active bid.")
        if bid.provider.lower() != self.address.lower():
            raise RequestRefused(ERR_NOT_OUR_BID)
        entry = self._entry(bid.model_id)
        if not has_capacity(self.store, entry, bid.model_id, time.time(), asker=(req.user, bid.id)):
            raise RequestRefused(ERR_CAPACITY)
        now = self._approval_timestamp()
        approval = Approval(bid_id=bid.id, chain_id=self.chain.chain_id, user=req.user, timestamp_ms=now).encode()
        approval_sig = sign_personal(self.signer, approval)
        self.store.remember_user_key(req.user, req.key)
        if self.user_keys is not None:
            await self.user_keys.save(req.user, req.key)
        self.store.add_pending(req.user, bid.id, bid.model_id)
        res = SessionRes(
            pub_key=self.signer.public_key, approval=approval, approval_sig=approval_sig, user=req.user, timestamp=now
        )
        await send(encode_result(request_id, signing.sign(res, self.signer)))
        log.info("approved a session on bid 0x%s for %s", bid.id.hex()[:12], req.user)

    def _approval_timestamp(self) -> int:
        """Now in ms, but always past the last approval's stamp.

        The contract refuses an approval it has seen (``SessionDuplicateApproval``), and two requests by one user for
        one bid in the same millisecond would otherwise be signed into byte-identical approvals: the second open would
        revert. Running at most a few ms ahead of the clock is harmless (the TTL check reads ms as seconds)."""
        self._last_approval_ms = max(_now_ms(), self._last_approval_ms + 1)
        return self._last_approval_ms

    def _entry(self, model_id: bytes) -> ModelEntry:
        entry = self.backends.entry_for(model_id)
        if entry is None:
            raise RequestRefused(f"Model 0x{model_id.hex()} is not served by this provider right now.")
        return entry

    # -- session lookups ----------------------------------------------------------------------------------------
    async def _session_state(self, session_id: bytes, *, fresh: bool = False) -> SessionState:
        """The session from the cache, else (or when stale, or after a report) from the chain; ours only."""
        state = self.store.get(session_id)
        stale = state is None or state.reported or time.time() - state.fetched_at > self.session_refresh_s
        if state is not None and not (fresh or stale):
            return state
        session = await self.marketplace.get_session(session_id)
        if not session.exists:
            raise RequestRefused(f"Session 0x{session_id.hex()} does not exist on chain; open it first.")
        if state is not None and state.bid.id == session.bid_id:
            bid = state.bid
        else:
            bid = await self.marketplace.get_bid(session.bid_id)
        if bid.provider.lower() != self.address.lower():
            raise RequestRefused(ERR_NOT_OUR_SESSION)
        return self.store.put(session, bid)

    async def _consumer_key(self, state: SessionState, message: SessionPromptReq | SessionReportReq) -> bytes:
        user = state.session.user
        key = self.store.user_key(user)
        if key is None and self.user_keys is not None:
            key = await self.user_keys.load(user)  # requested before a restart
            if key is not None:
                self.store.remember_user_key(user, key)
        if key is None or not signing.verify(message, key):
            raise RequestRefused(ERR_AUTH)
        return key

    # -- session.prompt -----------------------------------------------------------------------------------------
    async def _prompt(self, request_id: str, req: SessionPromptReq, send: Send) -> None:
        started = time.monotonic()
        state = await self._session_state(req.session_id)
        key = await self._consumer_key(state, req)
        session = state.session
        if not session.is_active or session.closed_at:
            raise RequestRefused(ERR_SESSION_CLOSED)
        # The consumer's timestamp (upstream's check) and our own clock: an old timestamp cannot revive a session.
        if session.ends_at * 1000 < max(req.timestamp, _now_ms()):
            raise RequestRefused(ERR_SESSION_EXPIRED)
        verdict = state.check_prompt(req.signature, req.timestamp)
        if verdict is PromptCheck.REPLAYED:
            raise RequestRefused(ERR_REPLAYED_PROMPT)
        if verdict is PromptCheck.STALE:
            raise RequestRefused(ERR_STALE_PROMPT)
        entry = self._entry(state.model_id)
        body = _chat_request(req.message)
        backend = self.backends.backend_for(entry)
        async with state.lock:  # one request at a time per session (upstream's semaphore)
            self.store.touch(session.id)
            stats = RequestStats()
            try:
                turns = self.turns
                turn_s = 0.0  # smoothed time to relay one chunk
                async with aclosing(backend.stream_chat_batches(body, stats=stats)) as batches:
                    async for batch in batches:
                        # Chunks that piled up while we were behind go out merged: one seal for the backlog.
                        for item in coalesce(batch) if turn_s >= self.congested_s else batch:
                            started_turn = time.monotonic()
                            await send(await turns.run(partial(self._seal, request_id, key, item)))
                            # Round robin: every other stream with a chunk ready seals it before this one goes on.
                            await asyncio.sleep(0)
                            turn_s += (time.monotonic() - started_turn - turn_s) * _SMOOTHING
            except BackendError as e:
                log.warning("session 0x%s: backend failed: %s", session.id.hex()[:12], e.user_message)
                await send(encode_error(request_id, encrypted_error(self.signer, key, _public_detail(e), _now_ms())))
            finally:
                if stats.ttft_ms is not None:
                    self.store.record_prompt(session.id, _prompt_stats(stats, started))

    def _seal(self, request_id: str, consumer_key: bytes, item: Any) -> bytes:
        """One backend item as the consumer receives it: encrypted to its key, signed by us, framed."""
        return encode_result(request_id, seal_prompt_response(self.signer, consumer_key, encode_value(item), _now_ms()))

    # -- session.report -----------------------------------------------------------------------------------------
    async def _report(self, request_id: str, req: SessionReportReq, send: Send) -> None:
        session_id = parse_hex(req.message, "params.message")
        if len(session_id) != 32:
            raise RequestRefused("session.report needs the 32-byte session id (hex) as its message.")
        state = await self._session_state(session_id)
        await self._consumer_key(state, req)
        totals, now = state.totals, _now_ms()
        n = totals.count
        receipt = CloseoutReceipt(
            session_id=session_id,
            chain_id=self.chain.chain_id,
            timestamp_ms=now,
            tps_scaled1000=min(_U32, totals.tps_scaled1000 // n) if n else 0,
            ttft_ms=min(_U32, totals.ttft_ms // n) if n else 0,
            input_tokens=min(_U32, totals.input_tokens),
            output_tokens=min(_U32, totals.output_tokens),
        ).encode()
        res = SessionReportRes(message=receipt, signed_report=sign_personal(self.signer, receipt), timestamp=now)
        state.reported = True  # the consumer closes next: prompts from now on re-read the session from the chain
        await send(encode_result(request_id, signing.sign(res, self.signer)))


def _chat_request(message: str) -> dict[str, Any]:
    """The consumer's plaintext OpenAI request; only chat completions are served here."""
    try:
        body = json.loads(message)
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise RequestRefused("The prompt message must be the JSON object of an OpenAI chat completion request.")
    kind = body.pop("type", None)
    if kind not in _CHAT_TYPES:
        raise RequestRefused(f"This provider serves chat completions only, not {str(kind)[:40]!r} requests.")
    if not isinstance(body.get("messages"), list):
        raise RequestRefused("The prompt has no 'messages' list; send an OpenAI chat completion request.")
    return body


def _public_detail(error: BackendError) -> Any:
    """What the consumer learns of a backend failure: the backend's own error body, never our backend's URL."""
    if error.body is not None:
        return error.body
    if error.status is not None:
        return f"the model backend answered HTTP {error.status}"
    return "the model backend is unavailable, too slow, or cut the answer off; try again later"


def _prompt_stats(stats: RequestStats, started: float) -> PromptStats:
    """Per-prompt stats as upstream keeps them: TTFT from the prompt's arrival, TPS over whole seconds."""
    ttft = (stats.started_at - started) * 1000 + (stats.ttft_ms or 0.0)
    seconds = max(1, int(stats.wall_ms // 1000))
    return PromptStats(
        ttft_ms=max(0, round(ttft)),
        tps_scaled1000=stats.output_tokens * 1000 // seconds,
        input_tokens=stats.input_tokens or 0,
        output_tokens=stats.output_tokens,
    )
