"""How amounts, times and countdowns read in the panes."""

from __future__ import annotations

import datetime as dt
from decimal import ROUND_DOWN, Decimal

from app.chain.units import WEI_PER_TOKEN


def amount(wei: int, symbol: str, places: int = 4) -> str:
    """``1234567800000000000000`` → ``"1,234.5678 MOR"``: grouped, rounded down, trailing zeros dropped."""
    value = (Decimal(wei) / WEI_PER_TOKEN).quantize(Decimal(1).scaleb(-places), rounding=ROUND_DOWN)
    text = f"{value:,.{places}f}".rstrip("0").rstrip(".")
    if wei > 0 and value == 0:
        return f"< {Decimal(1).scaleb(-places):f} {symbol}"
    return f"{text} {symbol}"


def utc_time(timestamp: int) -> str:
    """A block timestamp as local-independent UTC text."""
    return dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def countdown(seconds: float) -> str:
    """``3725`` → ``"1 h 02 min"``; ``42`` → ``"42 s"``; ended → ``"ended"``."""
    s = int(seconds)
    if s <= 0:
        return "ended"
    days, rest = divmod(s, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes:02d} min"
    if minutes:
        return f"{minutes} min {secs:02d} s"
    return f"{secs} s"
