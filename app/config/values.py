"""Parsers for setting values given as text (env, flags, .env): each names the variable when it rejects one."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from app.config.durations import parse_go_duration
from app.errors import ConfigError

Parser = Callable[[str, str], Any]  # (raw text, variable name) → value

_ADDRESS = re.compile(r"^0x[0-9a-fA-F]{40}$")
_TRUE = {"1", "t", "true", "y", "yes", "on"}
_FALSE = {"0", "f", "false", "n", "no", "off"}
LOG_LEVELS = ("debug", "info", "warn", "warning", "error", "dpanic", "panic", "fatal")


class Secret:
    """A secret string that never shows itself in repr, str or logs; ``reveal()`` returns it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        """The secret itself; pass it straight to the code that needs it."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def _bad(name: str, raw: str, expected: str) -> ConfigError:
    return ConfigError(f"{name}={raw!r} is invalid: expected {expected}.")


def text(raw: str, name: str) -> str:
    """Any text, trimmed."""
    return raw.strip()


def optional_text(raw: str, name: str) -> str | None:
    """Text, or None when empty (Go treats an empty variable as unset)."""
    return raw.strip() or None


def secret(raw: str, name: str) -> Secret | None:
    """A secret, or None when empty; errors never echo it."""
    return Secret(raw.strip()) if raw.strip() else None


def boolean(raw: str, name: str) -> bool:
    """Go's strconv.ParseBool values plus yes/no/on/off, case-insensitive."""
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise _bad(name, raw, "true or false")


def non_negative_int(raw: str, name: str) -> int:
    """A whole number ≥ 0."""
    try:
        value = int(raw.strip(), 10)
    except ValueError:
        raise _bad(name, raw, "a whole number such as 3") from None
    if value < 0:
        raise _bad(name, raw, "a number ≥ 0")
    return value


def duration(raw: str, name: str) -> dt.timedelta:
    """A Go duration such as 90s, 4m or 1h30m, not negative."""
    value = parse_go_duration(raw, name)
    if value < dt.timedelta(0):
        raise _bad(name, raw, "a duration ≥ 0 such as 90s")
    return value


def optional_address(raw: str, name: str) -> str | None:
    """An 0x address (40 hex), lower-cased, or None when empty."""
    value = raw.strip()
    if not value:
        return None
    if not _ADDRESS.match(value):
        raise _bad(name, raw, "an address: 0x followed by 40 hex characters")
    return value.lower()


def address(raw: str, name: str) -> str:
    """A required 0x address."""
    value = optional_address(raw, name)
    if value is None:
        raise _bad(name, raw, "an address: 0x followed by 40 hex characters")
    return value


def address_list(raw: str, name: str) -> tuple[str, ...]:
    """Comma-separated addresses (empty → none)."""
    items = [item.strip() for item in raw.split(",") if item.strip()]
    for item in items:
        if not _ADDRESS.match(item):
            raise ConfigError(f"{name} contains {item!r}: expected comma-separated addresses (0x + 40 hex).")
    return tuple(dict.fromkeys(item.lower() for item in items))


def host_port(raw: str, name: str) -> str:
    """``host:port`` (host may be empty, an IPv4 name or a bracketed IPv6), port 0–65535."""
    value = raw.strip()
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535 or " " in host:
        raise _bad(name, raw, "host:port such as 127.0.0.1:8082")
    return value


def redacted_url(raw: str) -> str:
    """``raw`` cut to ``scheme://host:port``, for error messages: RPC and backend URLs often carry an API key in
    their path, query or user info, so those are replaced by an ellipsis."""
    value = raw.strip()
    scheme, sep, rest = value.partition("://")
    if not sep:
        scheme, rest = "", value
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0]
    shown = scheme + sep + authority.rpartition("@")[2]
    return shown if shown == value else shown + "…"


def _url(raw: str, name: str, schemes: tuple[str, ...]) -> str | None:
    value = raw.strip()
    if not value:
        return None
    parts = urlsplit(value)
    if parts.scheme.lower() not in schemes or not parts.netloc:
        raise _bad(name, redacted_url(raw), f"a URL starting with {' or '.join(s + '://' for s in schemes)}")
    return value


def optional_http_url(raw: str, name: str) -> str | None:
    """An http(s) URL, or None when empty."""
    return _url(raw, name, ("http", "https"))


def optional_rpc_url(raw: str, name: str) -> str | None:
    """A JSON-RPC URL over http(s) or ws(s), or None when empty."""
    return _url(raw, name, ("http", "https", "ws", "wss"))


def log_level(raw: str, name: str) -> str:
    """A zap log level name (Go's), lower-cased."""
    value = raw.strip().lower()
    if value not in LOG_LEVELS:
        raise _bad(name, raw, "one of " + ", ".join(LOG_LEVELS))
    return value
