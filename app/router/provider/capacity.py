"""Capacity policies at ``session.request`` (spec §2.2): ``simple`` and ``idle_timeout`` per model's slots."""

from __future__ import annotations

from app.config.models_config import ModelEntry
from app.router.provider.sessions import ACTIVITY_WINDOW_S, SessionState, SessionStore

__all__ = ["has_capacity", "sessions_in_use"]


def _counts(state: SessionState, policy: str, now: float) -> bool:
    session = state.session
    if session.closed_at or session.ends_at <= now:
        return False
    if policy == "idle_timeout":
        return state.last_activity is not None and state.last_activity + ACTIVITY_WINDOW_S > now
    return True


def sessions_in_use(
    store: SessionStore, entry: ModelEntry, model_id: bytes, now: float, *, asker: tuple[str, bytes] | None = None
) -> int:
    """Sessions of ``model_id`` that hold a slot under the entry's policy, plus approvals not yet opened.

    ``asker`` = (user, bid id) of the request being decided: its own earlier reservation (a retry) is not counted.
    """
    held = sum(1 for s in store.sessions() if s.model_id == model_id and _counts(s, entry.capacity_policy, now))
    return held + store.pending_count(model_id, excluding=asker)


def has_capacity(
    store: SessionStore, entry: ModelEntry, model_id: bytes, now: float, *, asker: tuple[str, bytes] | None = None
) -> bool:
    """False when the model's ``concurrentSlots`` (0 = unlimited) are all taken."""
    if entry.concurrent_slots <= 0:
        return True
    return sessions_in_use(store, entry, model_id, now, asker=asker) < entry.concurrent_slots
