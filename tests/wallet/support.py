"""An in-memory keyring backend for the wallet tests.

Defining a KeyringBackend subclass registers it with keyring, and its priority beats SecretService: any process
that imports this module and then resolves the default keyring gets this dict, never the real OS keychain.
"""

from __future__ import annotations

import keyring.backend
from keyring.errors import PasswordDeleteError


class MemoryKeyring(keyring.backend.KeyringBackend):
    """A secure-looking keyring that lives in a dict, so tests never touch the real OS keychain."""

    priority = 10  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.items.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.items[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        if self.items.pop((service, username), None) is None:
            raise PasswordDeleteError(username)
