"""Events the consumer side publishes on ``app.events.EventBus`` for the GUI (plain frozen dataclasses)."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["AnswerFinished", "ConsumerSessionClosed", "ConsumerSessionOpened", "ProviderFailed"]


@dataclass(frozen=True)
class ConsumerSessionOpened:
    """We opened a session on chain."""

    session_id: str
    provider: str
    model_id: str
    bid_id: str
    stake_wei: int
    ends_at: int
    tx_hash: str


@dataclass(frozen=True)
class ConsumerSessionClosed:
    """We closed a session; ``disputed`` when we had to sign the receipt ourselves (provider unreachable)."""

    session_id: str
    disputed: bool
    tx_hash: str
    reason: str = ""


@dataclass(frozen=True)
class ProviderFailed:
    """A provider failed a request (it cools down locally); ``failover`` says whether we switched providers."""

    provider: str
    model_id: str
    session_id: str
    kind: str
    reason: str
    failover: bool


@dataclass(frozen=True)
class AnswerFinished:
    """An answer (or the part one provider gave before failing) finished, with its measured numbers."""

    session_id: str
    provider: str
    message_id: int | None
    input_tokens: int
    output_tokens: int
    ttft_ms: float | None
    tps: float
    cost_wei: int
    complete: bool
