"""A tiny publish/subscribe bus: the core publishes plain dataclass events, the GUI bridge re-emits them."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

log = logging.getLogger(__name__)

E = TypeVar("E")
Handler = Callable[[Any], None]


class EventBus:
    """Synchronous fan-out of events to handlers subscribed by event type.

    Handlers run on the publisher's thread (the one event loop); a failing handler is logged and does not stop
    delivery to the others, so one broken view cannot break the core.
    """

    def __init__(self) -> None:
        self._handlers: dict[type[Any], list[Handler]] = defaultdict(list)

    def subscribe(self, event_type: type[E], handler: Callable[[E], None]) -> Callable[[], None]:
        """Call ``handler`` for every published event of ``event_type``; returns an unsubscribe function."""
        self._handlers[event_type].append(handler)

        def unsubscribe() -> None:
            if handler in self._handlers[event_type]:
                self._handlers[event_type].remove(handler)

        return unsubscribe

    def publish(self, event: object) -> None:
        """Deliver ``event`` to the handlers of its exact type."""
        for handler in list(self._handlers.get(type(event), ())):
            try:
                handler(event)
            except Exception:
                log.exception("event handler %r failed on %s", handler, type(event).__name__)


@dataclass(frozen=True)
class ServiceState:
    """A background service changed state (startup screen, status bar)."""

    service: str
    state: str  # "starting" | "running" | "failed" | "stopped"
    detail: str = ""
    seconds: float | None = None


@dataclass(frozen=True)
class ChainStatus:
    """Latest view of the chain connection."""

    network: str
    chain_id: int
    block: int | None
    reachable: bool
    detail: str = ""


@dataclass(frozen=True)
class WalletState:
    """The wallet was created, unlocked, locked or removed."""

    address: str | None
    locked: bool


# Final: mined · failed (included, status 0) · dropped (lost and cannot be sent again) · replaced (another tx took
# the nonce) · unresolved (still not mined when the bounded wait ended).
# Progress, published while recovery goes on: waiting (in the pool, being awaited) · resent (the node had lost it;
# the same signed bytes were sent again) · bumped (stuck; re-sent with a higher fee).
RecoveryOutcome = Literal["mined", "failed", "dropped", "replaced", "unresolved", "waiting", "resent", "bumped"]


@dataclass(frozen=True)
class RecoveredTransaction:
    """Event: a transaction sent before the app stopped was found again; ``message`` is one sentence for the user.

    Published by ``app.chain.tx_recovery``; defined here so the GUI can subscribe without importing the chain side
    (web3) before the entry screens are up.
    """

    tx_hash: str  # the included version when mined, else the latest version sent
    nonce: int
    purpose: str
    outcome: RecoveryOutcome
    message: str
