"""Live views of the unlocked wallet's router objects, so long-lived panes never keep a locked wallet's signer.

Services rebuilds the consumer, the Diamond-with-sender and the sender on every unlock and drops them on lock. A pane
built once must therefore not hold those objects: it holds these forwarders, which look up the current one on every
use and say "unlock the wallet" when there is none.
"""

from __future__ import annotations

from typing import Any

from app.bootstrap.services import Services
from app.chain.fees import Fees
from app.errors import WalletError

LOCKED = "The wallet is locked: unlock it to use the marketplace and chat."


class _Live:
    """Forwards attribute access to ``getattr(services, name)`` at the time of use."""

    _attribute = ""

    def __init__(self, services: Services) -> None:
        self._services = services

    def __getattr__(self, name: str) -> Any:
        target = getattr(self._services, self._attribute)
        if target is None:
            raise WalletError(LOCKED)
        return getattr(target, name)


class LiveConsumer(_Live):
    """The ConsumerService of the currently unlocked wallet."""

    _attribute = "consumer"


class LiveDiamond(_Live):
    """The Diamond wrapper as it is now (with a sender only while unlocked)."""

    _attribute = "diamond"


def live_fees(services: Services) -> Any:
    """``TxSender.current_fees`` of the current sender, resolved at call time."""

    async def fees() -> Fees:
        if services.sender is None:
            raise WalletError(LOCKED)
        return await services.sender.current_fees()

    return fees
