"""Provider-side session state: consumer keys, cached on-chain sessions, per-prompt stats and pruning."""

from __future__ import annotations

import asyncio
import enum
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from app.chain.records import Bid, Session

__all__ = ["PendingApproval", "PromptCheck", "PromptStats", "PromptTotals", "SessionState", "SessionStore"]

ACTIVITY_WINDOW_S = 15 * 60
"""``idle_timeout`` capacity: a session counts while it had a prompt within this window (upstream: 15 min)."""
ACTIVITY_PRUNE_S = 60 * 60
"""Activity older than this is forgotten (upstream: 60 min)."""
PENDING_TTL_S = 120.0
"""How long an approval we signed holds a capacity slot while the consumer opens the session on chain."""
ENDED_GRACE_S = 60 * 60
"""An ended session is kept this long after its end, so a late ``session.report`` still finds its stats."""
USER_KEY_TTL_S = 30 * 24 * 3600
"""A consumer key unused for this long is dropped (the consumer sends it again with its next session.request)."""


@dataclass(frozen=True, slots=True)
class PromptStats:
    """What one prompt cost, as it goes into the closeout receipt (spec §5.4)."""

    ttft_ms: int
    tps_scaled1000: int
    input_tokens: int
    output_tokens: int


REPLAY_WINDOW = 32
"""Signed prompts remembered per session. Older ones are refused by their timestamp instead (see ``check_prompt``),
so a session's memory stops growing after this many prompts, however long it runs."""


class PromptCheck(enum.Enum):
    """What the replay guard makes of a signed prompt."""

    FRESH = "fresh"
    REPLAYED = "replayed"  # this exact signed prompt was accepted before
    STALE = "stale"  # stamped no later than a prompt the window already let go of: cannot be told from a replay


@dataclass
class PromptTotals:
    """Sums over every prompt a session served: what the closeout receipt averages and adds up (spec §5.4)."""

    count: int = 0
    ttft_ms: int = 0
    tps_scaled1000: int = 0
    input_tokens: int = 0
    output_tokens: int = 0

    def add(self, stats: PromptStats) -> None:
        self.count += 1
        self.ttft_ms += stats.ttft_ms
        self.tps_scaled1000 += stats.tps_scaled1000
        self.input_tokens += stats.input_tokens
        self.output_tokens += stats.output_tokens


@dataclass
class SessionState:
    """One on-chain session this provider serves, with what the provider measured for it."""

    session: Session
    bid: Bid
    fetched_at: float
    # Running totals of every prompt (for the closeout receipt) and the newest prompt's own stats (diagnostics):
    # a session's stats take the same memory however many prompts it serves.
    last_prompt: PromptStats | None = None
    totals: PromptTotals = field(default_factory=lambda: PromptTotals())
    last_activity: float | None = None
    reported: bool = False  # a report was signed: the consumer is closing it, so re-read the chain before serving
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)
    # The newest accepted prompts: the first 16 bytes of each signature's ``r`` -> its signed timestamp (ms).
    answered: dict[bytes, int] = field(default_factory=dict, repr=False)
    stale_before_ms: int = 0  # prompts stamped at or before this were let go of by the window: refused

    def check_prompt(self, signature: bytes, timestamp_ms: int) -> PromptCheck:
        """Accept a signed prompt once (remembering it), or say why not.

        MOR-RPC has no nonces (spec §4.8): a captured prompt could be sent again while the session is open and
        would cost the consumer another answer. Consumers sign each prompt afresh with a new millisecond timestamp
        (covered by the signature), so an identical signature is never a legitimate retry. The newest
        ``REPLAY_WINDOW`` prompts are remembered by the start of ``r`` (a malleated copy of a signature, ``s``
        negated and ``v`` flipped, has the same ``r``; 16 bytes of a curve point's x never collide by chance).
        When the oldest is let go, its timestamp becomes the floor: anything stamped at or before it is refused,
        so forgetting it cannot re-open it to replay. The consumer's own clock sets both sides of that comparison,
        so clock skew between the machines does not matter; only a consumer whose clock jumps back by more than
        its last ``REPLAY_WINDOW`` prompts span is refused, until its clock passes the floor again.
        """
        if timestamp_ms <= self.stale_before_ms:
            return PromptCheck.STALE
        key = signature[:16]
        if key in self.answered:
            return PromptCheck.REPLAYED
        self.answered[key] = timestamp_ms
        if len(self.answered) > REPLAY_WINDOW:
            oldest = min(self.answered, key=self.answered.__getitem__)
            self.stale_before_ms = max(self.stale_before_ms, self.answered.pop(oldest))
        return PromptCheck.FRESH

    @property
    def model_id(self) -> bytes:
        return self.bid.model_id


@dataclass(frozen=True)
class PendingApproval:
    """An approval we signed whose session is not open yet: it holds a capacity slot for a while."""

    model_id: bytes
    expires_at: float


class SessionStore:
    """In-memory state of the provider; one instance per node, used from the event loop only.

    ``clock`` returns Unix seconds (a float); tests may pass their own.
    """

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._user_keys: dict[str, tuple[bytes, float]] = {}
        self._sessions: dict[bytes, SessionState] = {}
        self._pending: dict[tuple[str, bytes], PendingApproval] = {}

    # -- consumer keys ------------------------------------------------------------------------------------------
    def remember_user_key(self, user: str, public_key: bytes) -> None:
        """Store the key a consumer sent with ``session.request``; its prompts are verified against it."""
        self._user_keys[user.lower()] = (public_key, self._clock())

    def user_key(self, user: str) -> bytes | None:
        """The consumer's public key, or None if it never requested a session here (or it was pruned)."""
        entry = self._user_keys.get(user.lower())
        if entry is None:
            return None
        self._user_keys[user.lower()] = (entry[0], self._clock())
        return entry[0]

    # -- sessions -----------------------------------------------------------------------------------------------
    def get(self, session_id: bytes) -> SessionState | None:
        return self._sessions.get(session_id)

    def put(self, session: Session, bid: Bid) -> SessionState:
        """Cache (or refresh) a session read from the chain; its stats and lock survive a refresh."""
        state = self._sessions.get(session.id)
        now = self._clock()
        if state is None:
            state = SessionState(session, bid, now)
            self._sessions[session.id] = state
        else:
            state.session, state.bid, state.fetched_at = session, bid, now
        self._pending.pop((session.user.lower(), bid.id), None)  # the approval became this session
        return state

    def record_prompt(self, session_id: bytes, stats: PromptStats) -> None:
        state = self._sessions.get(session_id)
        if state is not None:
            state.last_prompt = stats
            state.totals.add(stats)
            state.last_activity = self._clock()

    def touch(self, session_id: bytes) -> None:
        """Mark prompt activity (at the start of a prompt, for the ``idle_timeout`` policy)."""
        state = self._sessions.get(session_id)
        if state is not None:
            state.last_activity = self._clock()

    def sessions(self) -> list[SessionState]:
        return list(self._sessions.values())

    # -- capacity reservations ----------------------------------------------------------------------------------
    def add_pending(self, user: str, bid_id: bytes, model_id: bytes) -> None:
        """Hold a slot for an approval; a retry by the same user for the same bid replaces its reservation."""
        self._pending[(user.lower(), bid_id)] = PendingApproval(model_id, self._clock() + PENDING_TTL_S)

    def pending_count(self, model_id: bytes, *, excluding: tuple[str, bytes] | None = None) -> int:
        now = self._clock()
        skip = None if excluding is None else (excluding[0].lower(), excluding[1])
        return sum(
            1 for key, p in self._pending.items() if p.model_id == model_id and p.expires_at > now and key != skip
        )

    # -- pruning ------------------------------------------------------------------------------------------------
    def prune(self) -> int:
        """Forget ended sessions, stale activity, expired reservations and unused keys; returns sessions dropped."""
        now = self._clock()
        dropped = 0
        for sid, state in list(self._sessions.items()):
            end = state.session.ends_at
            if state.session.closed_at:
                end = min(end, state.session.closed_at)
            if end + ENDED_GRACE_S < now and not state.lock.locked():
                del self._sessions[sid]
                dropped += 1
            elif state.last_activity is not None and state.last_activity + ACTIVITY_PRUNE_S < now:
                state.last_activity = None
        for key, pending in list(self._pending.items()):
            if pending.expires_at <= now:
                del self._pending[key]
        for user, (_, used) in list(self._user_keys.items()):
            if used + USER_KEY_TTL_S < now:
                del self._user_keys[user]
        return dropped
