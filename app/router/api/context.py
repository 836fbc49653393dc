"""Everything a route handler may use, read live (the chain wrappers change when the wallet locks or unlocks)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

from eth_utils.address import to_checksum_address

from app.config.models_config import ModelsConfig
from app.config.settings import Settings
from app.errors import ApiError
from app.router.api.auth import AuthConfig
from app.router.api.ports import ApiChain, ApiMarketplace, ApiToken, ApiWalletPort, EthSender
from app.router.consumer.service import ConsumerService
from app.storage.store import AsyncStorage

VERSION = "0.1.0"


class NodeView(Protocol):
    """The running node's parts (``app.bootstrap.services.Services`` satisfies it); None while not available."""

    @property
    def storage(self) -> AsyncStorage | None: ...

    @property
    def chain(self) -> ApiChain | None: ...

    @property
    def diamond(self) -> ApiMarketplace | None: ...

    @property
    def token(self) -> ApiToken | None: ...

    @property
    def sender(self) -> EthSender | None: ...


def _no_consumer() -> ConsumerService | None:
    return None


@dataclass
class ApiContext:
    """The API's dependencies. ``consumer`` is a getter because the consumer exists only while unlocked."""

    node: NodeView
    settings: Settings
    models: ModelsConfig
    auth: AuthConfig
    wallet: ApiWalletPort | None = None
    consumer: Callable[[], ConsumerService | None] = _no_consumer
    settings_file: Path | None = None
    version: str = VERSION
    started: float = field(default_factory=time.monotonic)

    # Each ``need_*`` answers with a status and a message that says what to do, instead of an AttributeError.
    def need_storage(self) -> AsyncStorage:
        """The node database, else 503."""
        if self.node.storage is None:
            raise ApiError("the local database is not open yet; retry in a moment", 503)
        return self.node.storage

    def need_chain(self) -> ApiChain:
        """The chain client, else 503."""
        if self.node.chain is None:
            raise ApiError("not connected to the chain yet; check ETH_NODE_ADDRESS or wait for the devnet", 503)
        return self.node.chain

    def need_diamond(self) -> ApiMarketplace:
        """The Diamond wrapper, else 503."""
        if self.node.diamond is None:
            raise ApiError("not connected to the chain yet; check ETH_NODE_ADDRESS or wait for the devnet", 503)
        return self.node.diamond

    def need_token(self) -> ApiToken:
        """The MOR token wrapper, else 503."""
        if self.node.token is None:
            raise ApiError("not connected to the chain yet; check ETH_NODE_ADDRESS or wait for the devnet", 503)
        return self.node.token

    def need_sender(self) -> EthSender:
        """The transaction sender of the unlocked wallet, else 409."""
        if self.node.sender is None:
            raise ApiError(_NO_WALLET, 409)
        return self.node.sender

    def wallet_address(self) -> str:
        """The node wallet's address, else 409."""
        address = self.wallet.address if self.wallet is not None else None
        if address is None and self.node.sender is not None:
            address = getattr(self.node.sender, "address", None)
        if not address:
            raise ApiError(_NO_WALLET, 409)
        return str(to_checksum_address(str(address)))

    def need_consumer(self) -> ConsumerService:
        """The consumer side (exists while the wallet is unlocked), else 409."""
        consumer = self.consumer()
        if consumer is None:
            raise ApiError(_NO_WALLET, 409)
        return consumer


_NO_WALLET = ("no wallet is unlocked: set one with POST /wallet/privateKey or /wallet/mnemonic, set "
              "WALLET_PRIVATE_KEY, or unlock the wallet in the app")
