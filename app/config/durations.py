"""Go ``time.ParseDuration`` in Python: "4m", "90s", "1h30m", "1.5h", "250ms" → exact nanoseconds."""

from __future__ import annotations

import datetime as dt
import re
from fractions import Fraction

from app.errors import ConfigError

_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # U+00B5 micro sign, as Go accepts
    "μs": 1_000,  # U+03BC Greek mu, as Go accepts
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
}
_COMPONENT = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")
_MAX_NS = 2**63 - 1


def parse_go_duration_ns(text: str) -> int:
    """Nanoseconds in a Go duration string; ValueError (with the reason) if Go would reject it."""
    s = text.strip()
    if not s:
        raise ValueError("empty duration")
    sign = -1 if s[0] == "-" else 1
    if s[0] in "+-":
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise ValueError("missing number")
    total = Fraction(0)
    pos = 0
    while pos < len(s):
        match = _COMPONENT.match(s, pos)
        if not match:
            if re.match(r"\d+\.?\d*$", s[pos:]):
                raise ValueError(f"missing unit in duration {text!r}")
            raise ValueError(f"invalid duration {text!r}")
        total += Fraction(match.group(1)) * _UNITS[match.group(2)]
        pos = match.end()
    ns = int(total)  # Go truncates sub-nanosecond fractions
    if ns > _MAX_NS:
        raise ValueError(f"duration {text!r} is out of range")
    return sign * ns


def parse_go_duration(text: str, name: str = "duration") -> dt.timedelta:
    """A Go duration as a timedelta (microsecond resolution); ConfigError naming ``name`` when invalid."""
    try:
        ns = parse_go_duration_ns(text)
    except ValueError as e:
        raise ConfigError(
            f"{name}={text!r} is not a duration ({e}): use Go syntax such as 90s, 4m or 1h30m."
        ) from e
    return dt.timedelta(microseconds=ns // 1000)


def format_go_duration(value: dt.timedelta) -> str:
    """A timedelta in the shortest Go-style form ("1h30m", "90s" → "1m30s", "250ms")."""
    us = round(value.total_seconds() * 1_000_000)
    if us == 0:
        return "0s"
    sign, us = ("-", -us) if us < 0 else ("", us)
    if us < 1_000_000:
        return f"{sign}{us / 1000:g}ms" if us % 1000 == 0 or us >= 1000 else f"{sign}{us}µs"
    hours, rest = divmod(us, 3_600_000_000)
    minutes, rest = divmod(rest, 60_000_000)
    seconds = rest / 1_000_000
    text = (f"{hours}h" if hours else "") + (f"{minutes}m" if hours or minutes else "") + f"{seconds:g}s"
    return sign + text
