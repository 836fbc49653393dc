"""Plain records the storage layer returns and accepts (no SQL in here)."""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass, field

from app.errors import StorageError

_CHAT_ID = re.compile(r"^0x[0-9a-fA-F]{64}$")


def now_ms() -> int:
    """The current time in Unix milliseconds (the unit of every stored timestamp)."""
    return time.time_ns() // 1_000_000


def new_chat_id() -> str:
    """A fresh chat id in the upstream shape: 0x followed by 64 hex characters."""
    return "0x" + secrets.token_hex(32)


def check_chat_id(chat_id: str) -> str:
    """``chat_id`` lower-cased, or StorageError if it is not 0x + 64 hex characters."""
    if not _CHAT_ID.match(chat_id):
        raise StorageError(f"Invalid chat id {chat_id!r}: expected 0x followed by 64 hex characters.")
    return chat_id.lower()


@dataclass(frozen=True, slots=True)
class Chat:
    """A conversation with one model, remote (through a session) or local."""

    id: str
    title: str
    model_id: str
    session_id: str | None
    is_local: bool
    system_prompt: str
    temperature: float | None
    max_tokens: int | None
    created: int
    updated: int


@dataclass(frozen=True, slots=True)
class Message:
    """One turn in a chat; ``position`` orders turns inside the chat."""

    id: int
    chat_id: str
    position: int
    role: str
    content: str
    created: int
    updated: int


@dataclass(frozen=True, slots=True)
class Receipt:
    """What an assistant answer cost and how fast it came, shown under the answer."""

    message_id: int
    provider: str | None = None
    bid_id: str | None = None
    session_id: str | None = None
    model_id: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    ttft_ms: float | None = None
    tps: float | None = None
    cost_wei: int | None = None
    failover_note: str | None = None


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A chat matching a search, with the matching message (None when only the title matched)."""

    chat_id: str
    title: str
    message_id: int | None
    snippet: str


@dataclass(frozen=True, slots=True)
class CachedSession:
    """A session this node opened (consumer side), cached so a restart can resume or close it."""

    id: str
    user: str
    provider: str
    model_id: str
    bid_id: str
    stake_wei: int
    price_per_second_wei: int
    opened_at: int
    ends_at: int
    closed_at: int | None = None
    failover: bool = True
    provider_url: str = ""
    provider_pubkey: str = ""


@dataclass(frozen=True, slots=True)
class ProviderRequest:
    """One request this node sent to a provider, as measured locally."""

    provider: str
    model_id: str
    at: int
    ok: bool
    reason: str = ""
    ttft_ms: float | None = None
    tps: float | None = None


@dataclass(frozen=True, slots=True)
class ProviderStats:
    """Local aggregates per provider and model; ``failed_at`` drives the failover cool-down."""

    provider: str
    model_id: str
    requests: int
    successes: int
    mean_ttft_ms: float | None
    mean_tps: float | None
    failed_at: int | None
    last_failure_reason: str

    @property
    def failures(self) -> int:
        """Requests that did not succeed."""
        return self.requests - self.successes

    @property
    def success_rate(self) -> float | None:
        """Successes / requests, or None before the first request."""
        return self.successes / self.requests if self.requests else None


@dataclass(frozen=True, slots=True)
class PendingTransaction:
    """A transaction sent but not yet known to be mined, so a restart can look for it."""

    hash: str
    nonce: int
    purpose: str
    created: int
    state: str = "pending"
    sender: str = ""  # lower-case address; "" for rows written before schema v3
    chain_id: int = 0
    # The signed transaction as broadcast (public, but long: kept out of reprs); None before schema v4.
    raw: bytes | None = field(default=None, repr=False)
    settled: int | None = None  # when the row left "pending" (ms); None while pending and before schema v4
