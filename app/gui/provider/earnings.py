"""What a provider may claim, has claimed, and how much room its reward limit leaves (contracts spec §6.6–6.7)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from app.chain.records import Provider, Session

DAY = 86_400
LIMIT_PERIOD_S = 365 * DAY


def start_of_day(ts: int) -> int:
    """00:00 UTC of the day of ``ts``."""
    return ts - ts % DAY


def claimable(session: Session, price_per_second: int, now: int) -> int:
    """``claimForProvider`` as the contract computes it (before the reward limit); 0 when nothing is due yet.

    A session pays only after its end; a close today keeps today's usage on hold until 00:00 UTC.
    """
    end = session.ends_at if session.closed_at == 0 else min(session.closed_at, session.ends_at)
    if now < end:
        return 0
    rewards = (end - session.opened_at) * price_per_second - session.provider_withdrawn_amount
    closed = session.closed_at
    hold = 0 if now >= start_of_day(closed) + DAY else (closed - max(start_of_day(closed), session.opened_at)) * (
        price_per_second)
    return max(0, rewards - hold)


@dataclass(frozen=True, slots=True)
class Earnings:
    """Totals over the provider's sessions, and the reward-limit runway."""

    claimable: int
    claimed: int
    active_sessions: int
    closed_sessions: int
    period_earned: int
    period_limit: int
    period_end: int
    claimable_sessions: tuple[bytes, ...]

    @property
    def runway(self) -> int:
        """How much more the provider may earn in this 365-day period (its stake minus what it earned)."""
        return max(0, self.period_limit - self.period_earned)


def earnings(provider: Provider, sessions: Iterable[tuple[Session, int]], now: int) -> Earnings:
    """Sum claimable and claimed over ``(session, price_per_second)`` pairs; the claimable total is capped by the
    reward limit (a provider earns at most its stake per period; a new period starts once the old one ended)."""
    total = claimed = active = closed = 0
    ids: list[bytes] = []
    for session, price in sessions:
        claimed += session.provider_withdrawn_amount
        if session.closed_at:
            closed += 1
        else:
            active += 1
        amount = claimable(session, price, now)
        if amount > 0:
            total += amount
            ids.append(session.id)
    earned = 0 if now > provider.limit_period_end else provider.limit_period_earned
    period_end = provider.limit_period_end if now <= provider.limit_period_end else now + LIMIT_PERIOD_S
    room = max(0, provider.stake - earned)
    return Earnings(min(total, room), claimed, active, closed, earned, provider.stake, period_end, tuple(ids))
