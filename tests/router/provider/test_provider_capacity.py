"""Capacity policies and session-state pruning, on a clock the test moves."""

from __future__ import annotations

import pytest

from app.chain.records import Bid, Session
from app.config.models_config import ModelEntry
from app.router.provider.capacity import has_capacity, sessions_in_use
from app.router.provider.sessions import (
    ACTIVITY_PRUNE_S,
    ACTIVITY_WINDOW_S,
    ENDED_GRACE_S,
    PENDING_TTL_S,
    REPLAY_WINDOW,
    USER_KEY_TTL_S,
    PromptCheck,
    PromptStats,
    SessionStore,
)

MODEL = b"\x01" * 32
USER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
T0 = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def entry(slots: int, policy: str = "simple") -> ModelEntry:
    return ModelEntry("0x" + MODEL.hex(), "m", "openai", "http://127.0.0.1:1/v1", None, {}, slots, policy)


def session(n: int, ends_at: float, closed_at: int = 0) -> tuple[Session, Bid]:
    bid = Bid(bytes([n]) * 32, "0x" + "aa" * 20, MODEL, 10**14, 0, 1, 0)
    s = Session(bytes([n]) * 32, USER, bid.id, 1, b"", 0, 0, int(T0), int(ends_at), closed_at, not closed_at, False)
    return s, bid


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(clock: Clock) -> SessionStore:
    return SessionStore(clock)


def test_simple_policy_counts_unended_open_sessions(store: SessionStore, clock: Clock) -> None:
    store.put(*session(1, T0 + 600))
    store.put(*session(2, T0 + 600, closed_at=int(T0)))
    store.put(*session(3, T0 - 1))
    assert sessions_in_use(store, entry(2), MODEL, clock.now) == 1
    assert has_capacity(store, entry(2), MODEL, clock.now)
    assert not has_capacity(store, entry(1), MODEL, clock.now)
    assert has_capacity(store, entry(0), MODEL, clock.now)  # 0 slots = unlimited


def test_idle_timeout_policy_counts_only_sessions_prompted_recently(store: SessionStore, clock: Clock) -> None:
    store.put(*session(1, T0 + 7200))
    store.put(*session(2, T0 + 7200))
    store.touch(bytes([1]) * 32)
    assert sessions_in_use(store, entry(1, "idle_timeout"), MODEL, clock.now) == 1
    clock.now += ACTIVITY_WINDOW_S + 1
    assert sessions_in_use(store, entry(1, "idle_timeout"), MODEL, clock.now) == 0
    assert sessions_in_use(store, entry(1, "simple"), MODEL, clock.now) == 2


def test_signed_approval_holds_a_slot_until_opened_or_expired(store: SessionStore, clock: Clock) -> None:
    s, bid = session(1, T0 + 600)
    store.add_pending(USER, bid.id, MODEL)
    assert not has_capacity(store, entry(1), MODEL, clock.now)
    assert has_capacity(store, entry(1), MODEL, clock.now, asker=(USER.lower(), bid.id))  # its own retry
    store.put(s, bid)  # opened: the reservation became the session
    assert sessions_in_use(store, entry(1), MODEL, clock.now) == 1
    store.add_pending("0x" + "bb" * 20, bid.id, MODEL)
    clock.now += PENDING_TTL_S + 1
    assert sessions_in_use(store, entry(1), MODEL, clock.now) == 1


def test_prune_forgets_ended_sessions_stale_activity_and_unused_keys(store: SessionStore, clock: Clock) -> None:
    store.put(*session(1, T0 + 10))
    store.put(*session(2, T0 + 10 * ENDED_GRACE_S))
    store.record_prompt(bytes([2]) * 32, PromptStats(10, 1000, 1, 2))
    store.remember_user_key(USER, b"\x04" + b"\x01" * 64)
    clock.now += ENDED_GRACE_S + ACTIVITY_PRUNE_S
    assert store.prune() == 1
    assert store.get(bytes([1]) * 32) is None
    kept = store.get(bytes([2]) * 32)
    assert kept is not None
    assert kept.last_activity is None
    assert kept.last_prompt == PromptStats(10, 1000, 1, 2)  # stats stay for the closing report
    assert kept.totals.count == 1 and kept.totals.output_tokens == 2
    assert store.user_key(USER.upper().replace("0X", "0x")) is not None  # keyed case-insensitively
    clock.now += USER_KEY_TTL_S + 1
    store.prune()
    assert store.user_key(USER) is None


def test_a_session_accepts_each_signed_prompt_once(store: SessionStore) -> None:
    state = store.put(*session(1, T0 + 600))
    assert state.check_prompt(b"sig-0", 1_000) is PromptCheck.FRESH
    assert state.check_prompt(b"sig-0", 1_000) is PromptCheck.REPLAYED  # the same signed prompt again
    assert state.check_prompt(b"sig-1", 999) is PromptCheck.FRESH  # a little out of order is fine
    # A refresh from the chain keeps what was answered.
    assert store.put(*session(1, T0 + 600)) is state
    assert state.check_prompt(b"sig-1", 999) is PromptCheck.REPLAYED


def test_prompts_the_window_let_go_of_are_refused_by_their_timestamp_and_memory_stays_bounded(
    store: SessionStore,
) -> None:
    state = store.put(*session(1, T0 + 600))
    for i in range(10 * REPLAY_WINDOW):
        assert state.check_prompt(f"sig-{i}".encode(), 1_000 + i) is PromptCheck.FRESH
    assert len(state.answered) == REPLAY_WINDOW  # a long session's memory does not grow
    # The first prompt, captured and sent again long after: forgotten, but refused by its timestamp.
    assert state.check_prompt(b"sig-0", 1_000) is PromptCheck.STALE
    last_forgotten = 1_000 + 9 * REPLAY_WINDOW - 1
    assert state.check_prompt(b"other", last_forgotten) is PromptCheck.STALE
    assert state.check_prompt(b"other", last_forgotten + 1) is PromptCheck.FRESH  # a new prompt inside the window
    # The newest remembered ones are replays; anything newer is served.
    newest = 10 * REPLAY_WINDOW - 1
    assert state.check_prompt(f"sig-{newest}".encode(), 1_000 + newest) is PromptCheck.REPLAYED
    assert state.check_prompt(b"next", 1_000 + newest + 1) is PromptCheck.FRESH


def test_a_malleated_copy_of_an_accepted_signature_is_a_replay_too(store: SessionStore) -> None:
    state = store.put(*session(1, T0 + 600))
    r, s_value = bytes(range(32)), b"\x11" * 32
    assert state.check_prompt(r + s_value + b"\x1b", 5) is PromptCheck.FRESH
    assert state.check_prompt(r + b"\xee" * 32 + b"\x1c", 5) is PromptCheck.REPLAYED  # s negated, v flipped


def test_a_long_session_keeps_totals_for_its_receipt_and_only_the_last_prompts_stats(store: SessionStore) -> None:
    store.put(*session(1, T0 + 600))
    n = 200
    for i in range(n):
        store.record_prompt(bytes([1]) * 32, PromptStats(ttft_ms=i, tps_scaled1000=1000, input_tokens=2,
                                                          output_tokens=5))
    state = store.get(bytes([1]) * 32)
    assert state is not None
    assert (state.totals.count, state.totals.ttft_ms, state.totals.output_tokens) == (n, n * (n - 1) // 2, 5 * n)
    assert state.last_prompt == PromptStats(ttft_ms=n - 1, tps_scaled1000=1000, input_tokens=2, output_tokens=5)
