"""Why a provider request failed, classified so failover and the local stats can act on it."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from app.errors import PeerError

__all__ = ["FailureKind", "NoProviderError", "OpenAttempt", "ProviderFailure"]


class FailureKind(enum.Enum):
    """The failure classes of spec §5.7 plus the provider's own refusals."""

    CONNECT = "connection refused or unreachable"
    TIMEOUT = "no answer in time"
    BACKEND = "the provider's model failed"
    EOF = "connection closed mid-answer"
    SIGNATURE = "bad signature"
    PROTOCOL = "malformed answer"
    REJECTED = "the provider refused"


class ProviderFailure(PeerError):
    """A provider could not serve a request; ``received`` counts the answer items that arrived before it failed."""

    def __init__(
        self,
        user_message: str,
        kind: FailureKind,
        *,
        provider: str = "",
        detail: object = None,
        received: int = 0,
    ) -> None:
        super().__init__(user_message)
        self.kind = kind
        self.provider = provider
        self.detail = detail
        self.received = received


@dataclass(frozen=True, slots=True)
class OpenAttempt:
    """One bid tried while opening a session by model, and why it did not open."""

    provider: str
    bid_id: str
    reason: str


class NoProviderError(PeerError):
    """Every bid of a model failed to open a session; ``attempts`` lists each provider and its reason."""

    def __init__(self, model_id: str, attempts: list[OpenAttempt]) -> None:
        if attempts:
            listed = "; ".join(f"{a.provider}: {a.reason}" for a in attempts)
            message = (f"No provider accepted a session for model {model_id}: {listed}. "
                       "Try again later, pick another model, or allow providers that are cooling down.")
        else:
            message = (f"No provider offers model {model_id} right now (no active bids from other providers). "
                       "Pick another model or try again later.")
        super().__init__(message)
        self.model_id = model_id
        self.attempts = attempts
