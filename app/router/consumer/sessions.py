"""Consumer sessions: open (by model, by bid, or with an approval in hand), close with report or dispute, expiry.

Open by model walks the ranked bids (spec §5.1): a provider that cannot be reached or refuses moves on to the next
bid, an on-chain failure aborts; when every bid fails the error lists each provider and why. Allowance top-ups go
through the token port under one lock that also counts opens still in flight, so concurrent opens never rely on
the same allowance. Close asks the provider for its signed report and falls back to a receipt we sign ourselves
(the on-chain dispute path) when the provider is unreachable.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
from collections.abc import AsyncIterable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from app.chain.records import Bid, Provider, Session
from app.errors import AppError, ChainError, PeerError
from app.events import EventBus
from app.router.consumer.client import Endpoint, MorRpcClient, SessionGrant
from app.router.consumer.events import ConsumerSessionClosed, ConsumerSessionOpened
from app.router.consumer.failures import NoProviderError, OpenAttempt
from app.router.consumer.market import Market
from app.router.morrpc.receipts import CloseoutReceipt, sign_personal
from app.router.ports import ChainInfo, MarketplacePort, TokenPort
from app.signer import Signer
from app.storage.records import CachedSession, ProviderRequest, now_ms
from app.storage.store import AsyncStorage

__all__ = ["MIN_SESSION_S", "OPEN_MARGIN_S", "CloseResult", "SessionManager", "SessionUsage", "open_stake"]

log = logging.getLogger(__name__)
_DUPLICATE_APPROVAL_RETRIES = 3
"""How often to ask a provider again when it hands out an approval another open of ours is already using."""

MIN_SESSION_S = 300  # openSession reverts below 5 minutes
# Sessions are staked for at least MIN_SESSION_S + this. A provider claim mined between our read of supply and
# budget and our openSession shrinks the stipend a little (10 s of 300 covers claims of ~3 % of the compute pool).
OPEN_MARGIN_S = 10
REHYDRATE_PAGE = 255
REHYDRATE_CLOSED_PAGES = 3  # stop after this many pages in which every session is closed (spec §5.6)


@dataclass
class SessionUsage:
    """Per-request numbers of one session, for a receipt we sign ourselves when the provider is gone."""

    ttft_ms: list[float] = field(default_factory=list)
    tps_scaled1000: list[int] = field(default_factory=list)
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, ttft_ms: float | None, tps: float, input_tokens: int, output_tokens: int) -> None:
        if ttft_ms is not None:
            self.ttft_ms.append(ttft_ms)
        self.tps_scaled1000.append(int(tps * 1000))
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens

    def receipt(self, session_id: bytes, chain_id: int) -> CloseoutReceipt:
        """The receipt with averaged TTFT/TPS, as the provider would build it (spec §5.5)."""
        u32 = (1 << 32) - 1
        ttft = int(sum(self.ttft_ms) / len(self.ttft_ms)) if self.ttft_ms else 0
        tps = sum(self.tps_scaled1000) // len(self.tps_scaled1000) if self.tps_scaled1000 else 0
        return CloseoutReceipt(session_id=session_id, chain_id=chain_id, timestamp_ms=now_ms(),
                               tps_scaled1000=min(tps, u32), ttft_ms=min(ttft, u32),
                               input_tokens=min(self.input_tokens, u32), output_tokens=min(self.output_tokens, u32))


class SessionEventLike(Protocol):
    """A decoded SessionOpened/SessionClosed log (``app.chain.receipts.DecodedEvent`` satisfies it)."""

    @property
    def name(self) -> str: ...

    @property
    def args(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True, slots=True)
class CloseResult:
    """How a session was closed: ``disputed`` when the receipt is self-signed (provider unreachable)."""

    session_id: str
    tx_hash: str
    disputed: bool
    reason: str = ""


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


def _bytes32(value: str | bytes, what: str) -> bytes:
    if isinstance(value, bytes):
        raw = value
    else:
        try:
            raw = bytes.fromhex(value[2:] if value[:2].lower() == "0x" else value)
        except ValueError:
            raw = b""
    if len(raw) != 32:
        raise PeerError(f"Invalid {what} {value!r}: expected 0x followed by 64 hex characters.")
    return raw


class SessionManager:
    """Opens, caches and closes this wallet's sessions."""

    def __init__(
        self,
        signer: Signer,
        diamond: MarketplacePort,
        token: TokenPort,
        chain: ChainInfo,
        client: MorRpcClient,
        market: Market,
        storage: AsyncStorage,
        *,
        bus: EventBus | None = None,
    ) -> None:
        self.signer = signer
        self.diamond = diamond
        self.token = token
        self.chain = chain
        self.client = client
        self.market = market
        self.storage = storage
        self.bus = bus or EventBus()
        self.usage: dict[str, SessionUsage] = {}
        self._allowance_lock = asyncio.Lock()
        self._in_flight = 0  # stake of opens that passed the allowance step and are not yet mined
        self._approvals_in_hand: set[bytes] = set()  # approvals fetched for opens that are not mined yet

    @property
    def user(self) -> str:
        return self.signer.address

    # -- opening -------------------------------------------------------------------------------------------------
    async def open_by_model(
        self,
        model_id: str | bytes,
        duration_s: int,
        *,
        direct: bool = False,
        omit: Collection[str] = (),
        failover: bool = True,
    ) -> CachedSession:
        """Open a session with the best bid that accepts; NoProviderError lists every provider's reason."""
        model = _bytes32(model_id, "model id")
        _check_duration(duration_s)
        snapshot = await self.market.snapshot(model, omit=omit)
        attempts: list[OpenAttempt] = []
        for ranked in snapshot.bids:
            amount = open_stake(snapshot.supply, snapshot.budget, ranked.price_per_second, duration_s, direct)
            try:
                grant = await self._initiate(ranked.provider, ranked.bid, amount)
            except PeerError as e:
                attempts.append(OpenAttempt(ranked.provider_address, ranked.bid_id, e.user_message))
                await self._record_failure(ranked.provider_address, _hex(model), e.user_message)
                continue
            return await self.open_with_approval(ranked.bid, ranked.provider, grant, amount, direct=direct,
                                                 failover=failover)
        raise NoProviderError(_hex(model), attempts)

    async def open_by_bid(self, bid_id: str | bytes, duration_s: int, *, direct: bool = False,
                          failover: bool = False) -> CachedSession:
        """Open a session on one fixed bid (the user's explicit choice)."""
        _check_duration(duration_s)
        bid = await self.diamond.get_bid(_bytes32(bid_id, "bid id"))
        if not bid.is_active:
            raise PeerError(f"Bid {_hex(bid.id)} is not active any more; pick another bid.")
        provider = await self.diamond.get_provider(bid.provider)
        now = await self.chain.block_timestamp()
        supply, budget = await asyncio.gather(self.diamond.total_mor_supply(now), self.diamond.todays_budget(now))
        amount = open_stake(supply, budget, bid.price_per_second, duration_s, direct)
        grant = await self._initiate(provider, bid, amount)
        return await self.open_with_approval(bid, provider, grant, amount, direct=direct, failover=failover)

    async def _initiate(self, provider: Provider, bid: Bid, amount: int) -> SessionGrant:
        if not provider.is_active:
            raise PeerError(f"Provider {bid.provider} is not registered any more.")
        endpoint = Endpoint.parse(provider.endpoint, bid.provider)
        for _ in range(_DUPLICATE_APPROVAL_RETRIES):
            grant = await self.client.request_session(endpoint, bid.provider, bid.id, amount, self.chain.chain_id)
            if grant.approval not in self._approvals_in_hand:
                self._approvals_in_hand.add(grant.approval)
                return grant
            # A provider that stamps by the clock alone (the Go router) signs two requests in one millisecond into
            # the same approval, which the contract takes only once: ask again on the next millisecond.
            await asyncio.sleep(0.002)
        raise PeerError(f"Provider {bid.provider} keeps handing out an approval already in use; try again.")

    async def open_with_approval(
        self, bid: Bid, provider: Provider, grant: SessionGrant, amount: int, *, direct: bool = False,
        failover: bool = True,
    ) -> CachedSession:
        """Send ``openSession`` with a checked approval (allowance topped up first when short) and cache it."""
        try:
            if amount <= 0:
                raise ChainError("The session stake works out to 0 MOR (today's budget is empty); try again later.")
            async with self._allowance_lock:
                await self.token.ensure_allowance(self.diamond.address, self._in_flight + amount)
                self._in_flight += amount
            try:
                created = await self.diamond.open_session(self.user, amount, direct, grant.approval,
                                                          grant.approval_sig)
            finally:
                self._in_flight -= amount
        finally:
            self._approvals_in_hand.discard(grant.approval)
        session = await self.diamond.get_session(created.id)
        cached = CachedSession(
            id=_hex(created.id), user=self.user, provider=bid.provider, model_id=_hex(bid.model_id),
            bid_id=_hex(bid.id), stake_wei=session.stake, price_per_second_wei=bid.price_per_second,
            opened_at=session.opened_at, ends_at=session.ends_at, failover=failover,
            provider_url=provider.endpoint, provider_pubkey=_hex(grant.provider_pubkey),
        )
        await self.storage.run(self.storage.sync.sessions.save, cached)
        cached = await self.get(cached.id)  # as stored (addresses lower-case), the same shape every lookup returns
        self.bus.publish(ConsumerSessionOpened(cached.id, cached.provider, cached.model_id, cached.bid_id,
                                               cached.stake_wei, cached.ends_at, created.receipt.tx_hash))
        log.info("opened session %s with %s until %d", cached.id, cached.provider, cached.ends_at)
        return cached

    # -- lookup --------------------------------------------------------------------------------------------------
    async def get(self, session_id: str) -> CachedSession:
        """The session from the cache, else read from chain (and cached); PeerError when it is not ours."""
        sid = _hex(_bytes32(session_id, "session id"))
        cached = await self.storage.run(self.storage.sync.sessions.get, sid)
        if cached is not None:
            return cached
        session = await self.diamond.get_session(_bytes32(sid, "session id"))
        if not session.exists or session.user.lower() != self.user.lower():
            raise PeerError(f"Session {sid} does not exist or was not opened by this wallet.")
        return await self._cache_from_chain(session)

    async def _cache_from_chain(self, session: Session) -> CachedSession:
        bid = await self.diamond.get_bid(session.bid_id)
        provider = await self.diamond.get_provider(bid.provider)
        cached = CachedSession(
            id=_hex(session.id), user=self.user, provider=bid.provider, model_id=_hex(bid.model_id),
            bid_id=_hex(bid.id), stake_wei=session.stake, price_per_second_wei=bid.price_per_second,
            opened_at=session.opened_at, ends_at=session.ends_at,
            closed_at=session.closed_at or None, provider_url=provider.endpoint,
        )
        await self.storage.run(self.storage.sync.sessions.save, cached)
        return await self.get(cached.id)

    async def provider_key(self, session: CachedSession) -> bytes:
        """The provider's public key: cached from session.request, else recovered from a fresh pong."""
        if session.provider_pubkey:
            return bytes.fromhex(session.provider_pubkey.removeprefix("0x"))
        pong = await self.client.ping(Endpoint.parse(session.provider_url, session.provider), session.provider)
        updated = dataclasses.replace(session, provider_pubkey=_hex(pong.public_key))
        await self.storage.run(self.storage.sync.sessions.save, updated)
        return pong.public_key

    async def open_sessions(self) -> list[CachedSession]:
        """Our cached sessions that are neither closed nor ended (by chain time: ``ends_at`` is a block time)."""
        now = await self.chain.block_timestamp()
        return await self.storage.run(self.storage.sync.sessions.open_sessions, self.user, now)

    # -- closing -------------------------------------------------------------------------------------------------
    async def close(self, session_id: str) -> CloseResult:
        """Close with the provider's signed report, or a self-signed receipt (dispute) if it cannot give one."""
        session = await self.get(session_id)
        sid = _bytes32(session.id, "session id")
        chain_id = self.chain.chain_id
        reason = ""
        try:
            key = await self.provider_key(session)
            report = await self.client.report(Endpoint.parse(session.provider_url, session.provider),
                                              session.provider, key, sid, chain_id)
            receipt, signature, disputed = report.receipt, report.signature, False
        except PeerError as e:
            reason = e.user_message
            log.warning("closing %s without the provider's report (dispute): %s", session.id, reason)
            usage = self.usage.get(session.id, SessionUsage())
            receipt = usage.receipt(sid, chain_id).encode()
            signature, disputed = sign_personal(self.signer, receipt), True
        tx = await self.diamond.close_session(receipt, signature)
        closed_at = (await self.diamond.get_session(sid)).closed_at  # the block time, not our wall clock
        await self.storage.run(self.storage.sync.sessions.mark_closed, session.id, closed_at)
        self.usage.pop(session.id, None)
        self.bus.publish(ConsumerSessionClosed(session.id, disputed, tx.tx_hash, reason))
        return CloseResult(session.id, tx.tx_hash, disputed, reason)

    async def close_expired(self) -> list[CloseResult]:
        """Close our sessions that ended but are still open on chain (run every minute)."""
        now = await self.chain.block_timestamp()
        results: list[CloseResult] = []
        for cached in await self.storage.run(self.storage.sync.sessions.unclosed_sessions, self.user):
            if cached.ends_at >= now:
                continue
            on_chain = await self.diamond.get_session(_bytes32(cached.id, "session id"))
            if on_chain.closed_at:
                await self.storage.run(self.storage.sync.sessions.mark_closed, cached.id, on_chain.closed_at)
                continue
            try:
                results.append(await self.close(cached.id))
            except AppError as e:
                log.warning("could not close expired session %s: %s", cached.id, e.user_message)
        return results

    async def run_expiry(self, interval_s: float = 60.0) -> None:
        """Forever: close expired sessions every ``interval_s`` (give this task an owner)."""
        while True:
            try:
                await self.close_expired()
            except AppError as e:
                log.warning("expired-session check failed: %s", e.user_message)
            await asyncio.sleep(interval_s)

    async def on_chain_event(self, event: SessionEventLike) -> None:
        """Refresh the cache on a SessionOpened/SessionClosed of this wallet (spec §5.6), e.g. from another node
        or app using the same wallet: an opened session is cached, a closed one is marked closed."""
        user = event.args.get("user")
        session_id = event.args.get("sessionId")
        if not isinstance(user, str) or user.lower() != self.user.lower() or not isinstance(session_id, bytes):
            return
        session = await self.diamond.get_session(session_id)
        if not session.exists:
            return
        sid = _hex(session_id)
        if event.name == "SessionClosed" or session.closed_at:
            await self.storage.run(self.storage.sync.sessions.mark_closed, sid, session.closed_at)
            self.usage.pop(sid, None)
        elif event.name == "SessionOpened" and await self.storage.run(self.storage.sync.sessions.get, sid) is None:
            await self._cache_from_chain(session)

    async def follow_chain_events(self, events: AsyncIterable[SessionEventLike]) -> None:
        """Apply every event of ``events`` to the cache until it ends (give this task an owner)."""
        async for event in events:
            try:
                await self.on_chain_event(event)
            except AppError as e:
                log.warning("could not apply %s to the session cache: %s", event.name, e.user_message)

    async def rehydrate(self) -> int:
        """Cache our unclosed sessions from chain, newest first; returns how many open ones were found."""
        first = await self.diamond.user_sessions(self.user, 0, 0)
        end = first.total
        found = 0
        closed_pages = 0
        while end > 0 and closed_pages < REHYDRATE_CLOSED_PAGES:
            start = max(0, end - REHYDRATE_PAGE)
            page = await self.diamond.user_sessions(self.user, start, end - start)
            sessions = await self.diamond.get_sessions(list(page.items)) if page.items else []
            open_ones = [s for s in sessions if not s.closed_at]
            closed_pages = closed_pages + 1 if not open_ones else 0
            for s in open_ones:
                if await self.storage.run(self.storage.sync.sessions.get, _hex(s.id)) is None:
                    await self._cache_from_chain(s)
                found += 1
            end = start
        return found

    # -- money ---------------------------------------------------------------------------------------------------
    async def withdraw_user_stakes(self, iterations: int = 255) -> str:
        """Withdraw stakes released from early-close holds; returns the transaction hash."""
        return (await self.diamond.withdraw_user_stakes(self.user, iterations)).tx_hash

    async def claim_for_provider(self, session_id: str) -> str:
        """Pay the provider what a session earned so far; returns the transaction hash."""
        return (await self.diamond.claim_for_provider(_bytes32(session_id, "session id"))).tx_hash

    async def _record_failure(self, provider: str, model_id: str, reason: str) -> None:
        await self.storage.run(self.storage.sync.provider_stats.record,
                               ProviderRequest(provider, model_id, now_ms(), False, reason[:300]))


def _check_duration(duration_s: int) -> None:
    if duration_s < MIN_SESSION_S:
        raise ChainError(f"A session must last at least {MIN_SESSION_S} s (the contract's minimum); "
                         f"{duration_s} s is too short.")


def open_stake(supply: int, budget: int, price: int, duration_s: int, direct: bool) -> int:
    """The amount to send with ``openSession`` for ``duration_s`` (wei): never one the contract rounds below 300 s.

    The contract floors twice (``stakeToStipend`` and ``stipend / price``), so the exact inverse
    ``supply × price × duration // budget`` lands on ``duration − 1`` s whenever the division is inexact — with
    any provider claims on chain, nearly always (19.000000001546623191 MOR at 2e14 wei/s gave 299 s and reverted
    SessionTooShort). Hence: round the stake up, and never stake for less than ``MIN_SESSION_S + OPEN_MARGIN_S``.
    """
    asked = max(duration_s, MIN_SESSION_S + OPEN_MARGIN_S)
    stake = -(-supply * price * asked // budget) if budget > 0 else 0
    # The contract derives endsAt from stakeToStipend(amount) in both modes and, for direct sessions, also wants
    # amount ≥ price × duration; upstream's bare price × duration makes sessions "too short" whenever supply exceeds
    # today's budget, so direct mode sends whichever is larger.
    return max(stake, price * asked) if direct else stake

