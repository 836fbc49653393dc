"""Consumer public keys kept across restarts, so open sessions keep working after the provider restarts."""

from __future__ import annotations

from typing import Protocol

from app.storage.store import AsyncStorage

__all__ = ["StoredUserKeys", "UserKeyStore"]


class UserKeyStore(Protocol):
    """Where the provider keeps each consumer's key (sent with ``session.request``) beyond its memory."""

    async def load(self, user: str) -> bytes | None: ...

    async def save(self, user: str, public_key: bytes) -> None: ...


class StoredUserKeys:
    """Consumer keys in the node database's settings table (``provider.user_key.<lower-case address>``)."""

    PREFIX = "provider.user_key."

    def __init__(self, storage: AsyncStorage) -> None:
        self._storage = storage

    async def load(self, user: str) -> bytes | None:
        value = await self._storage.run(self._storage.sync.settings.get, self.PREFIX + user.lower())
        if value is None:
            return None
        try:
            return bytes.fromhex(value)
        except ValueError:
            return None  # a damaged row: the consumer's next session.request stores its key again

    async def save(self, user: str, public_key: bytes) -> None:
        await self._storage.run(self._storage.sync.settings.set, self.PREFIX + user.lower(), public_key.hex())
