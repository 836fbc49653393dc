"""Cost and refund preview of a session before anything is signed (contracts spec §6.3–6.5), in exact integers."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.router.consumer.sessions import open_stake

DAY = 86_400
MIN_SESSION_S = 300


@dataclass(frozen=True, slots=True)
class QuoteInputs:
    """Chain-wide values at the time of the quote (amounts in wei, times in Unix seconds)."""

    supply: int
    budget: int
    now: int
    max_session_s: int = DAY


@dataclass(frozen=True, slots=True)
class SessionQuote:
    """What opening a session for ``duration_s`` at ``price_per_second`` means for the person's MOR."""

    duration_s: int
    direct: bool
    amount: int
    """MOR sent to the contract: the stake (stake mode) or the prepaid cost (direct pay)."""
    provider_cost: int
    """What the provider earns over the full duration (paid from the compute pool in stake mode)."""
    ends_at: int
    refund_at_expiry: int
    early_close_at: int
    refund_early_now: int
    on_hold_early: int
    hold_release_at: int

    @property
    def your_cost_at_expiry(self) -> int:
        """MOR not coming back if the session runs out naturally."""
        return self.amount - self.refund_at_expiry


def start_of_day(ts: int) -> int:
    """00:00 UTC of the day of ``ts``."""
    return ts - ts % DAY


def stake_for(supply: int, budget: int, price_per_second: int, duration_s: int) -> int:
    """Stake-mode amount, exactly what the consumer sends (``supply × price × duration / budget`` rounded up, never
    for less than the contract's 300 s plus a margin): the preview and the open must agree."""
    return open_stake(supply, budget, price_per_second, duration_s, direct=False)


def stipend_to_stake(stipend: int, supply: int, budget: int) -> int:
    """The contract's ``stipendToStake`` with today's budget (``compute / 100``)."""
    return stipend * supply // budget if budget > 0 else 0


def quote(inputs: QuoteInputs, price_per_second: int, duration_s: int, *, direct: bool) -> SessionQuote:
    """Preview a session opened now. The early-close case is closing at half time, the usual "I am done" case.

    Natural expiry (a close at or after the end): stake mode refunds the whole stake, direct pay refunds nothing
    (the provider is paid from the escrow). Early close: direct pay first pays the provider for the time used;
    then the stake worth of today's usage is held until 00:00 UTC (``OnHold``) and the rest comes back at once.
    """
    duration = max(MIN_SESSION_S, min(duration_s, inputs.max_session_s))
    cost = price_per_second * duration
    amount = open_stake(inputs.supply, inputs.budget, price_per_second, duration, direct)  # what the open sends
    opened = inputs.now
    closed = opened + duration // 2
    sod = start_of_day(closed)
    to_provider = (closed - opened) * price_per_second if direct else 0
    user_stake = amount - to_provider
    used_today = (closed - max(opened, sod)) * price_per_second
    lock = min(user_stake, stipend_to_stake(used_today, inputs.supply, inputs.budget))
    return SessionQuote(
        duration_s=duration, direct=direct, amount=amount, provider_cost=cost, ends_at=opened + duration,
        refund_at_expiry=amount - (cost if direct else 0), early_close_at=closed,
        refund_early_now=user_stake - lock, on_hold_early=lock, hold_release_at=sod + DAY,
    )


def when(ts: int) -> str:
    """A Unix time for people: local date and time (with the year when it is not this year)."""
    moment = dt.datetime.fromtimestamp(ts).astimezone()
    same_year = moment.year == dt.datetime.now().astimezone().year
    return moment.strftime("%a %d %b %H:%M" if same_year else "%a %d %b %Y %H:%M")
