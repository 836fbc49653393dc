"""Wires the HTTP API to a running :class:`Services`: the wallet port, the auth files and the server."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

from app.bootstrap.services import Services
from app.errors import ApiError, WalletError
from app.router.api.auth import AuthConfig
from app.router.api.context import ApiContext
from app.router.api.server import ApiServer
from app.router.consumer.service import ConsumerService
from app.wallet.manager import RESET_CONFIRMATION, LockState, WalletManager
from app.wallet.secret import WalletSecret

log = logging.getLogger(__name__)


class ApiWallet:
    """``/wallet`` on a :class:`WalletManager`. The app password of a wallet set over the API is ``password()``
    (headless: the admin password from ``.cookie``, so only the API's admin can unlock it)."""

    def __init__(self, manager: WalletManager, password: Callable[[], str]) -> None:
        self._manager = manager
        self._password = password

    @property
    def address(self) -> str | None:
        """The wallet's address once unlocked (or known from the environment)."""
        return self._manager.address if self._manager.state is LockState.UNLOCKED else None

    async def set_private_key(self, private_key_hex: str) -> str:
        """Store and unlock a raw-key wallet; ApiError 400 for a malformed key."""
        try:
            secret = WalletSecret.from_private_key(private_key_hex)
        except (WalletError, ValueError) as e:
            raise ApiError("privateKey must be 32 bytes of hex (64 hex characters, 0x optional)") from e
        return await self._manager.setup(self._password(), secret)

    async def set_mnemonic(self, mnemonic: str, derivation_path: str) -> str:
        """Store and unlock a mnemonic wallet at ``derivation_path`` (``"0"`` = m/44'/60'/0'/0/0)."""
        try:
            secret = await asyncio.to_thread(WalletSecret.from_mnemonic, mnemonic, derivation_path or "0")
        except WalletError as e:
            raise ApiError(e.user_message) from e
        return await self._manager.setup(self._password(), secret)

    async def remove(self) -> None:
        """Delete the stored wallet and lock."""
        await self._manager.reset(RESET_CONFIRMATION)


async def load_auth(services: Services) -> AuthConfig:
    """Read/create ``.cookie`` and ``proxy.conf`` at COOKIE_FILE_PATH / AUTH_CONFIG_FILE_PATH (0600)."""
    settings = services.settings
    content = settings.cookie_content.reveal() if settings.cookie_content is not None else None
    return await asyncio.to_thread(
        AuthConfig.load, settings.resolve(settings.cookie_file_path), settings.resolve(settings.auth_config_file_path),
        content,
    )


def build_api_server(services: Services, auth: AuthConfig, consumer: Callable[[], ConsumerService | None], *,
                     wallet_api: bool = True, address: str | None = None) -> ApiServer:
    """The API server over ``services``. ``wallet_api=False`` (GUI) answers the /wallet setters with 501."""
    ctx = ApiContext(
        node=services, settings=services.settings, models=services.config.models, auth=auth,
        wallet=ApiWallet(services.wallet, lambda: auth.admin_password) if wallet_api else None,
        consumer=consumer,
    )
    return ApiServer(ctx, address)
