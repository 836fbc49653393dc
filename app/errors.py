"""The one exception tree: every error a person may see carries a message written for them."""

from __future__ import annotations


class AppError(Exception):
    """Root of every error this application raises on purpose.

    ``user_message`` says what went wrong and, where possible, how to fix it. It must never contain
    key material, mnemonics or passwords.
    """

    def __init__(self, user_message: str) -> None:
        super().__init__(user_message)
        self.user_message = user_message


class ConfigError(AppError):
    """A configuration file, environment variable or setting is invalid."""


class ChainError(AppError):
    """Talking to the chain failed: RPC unreachable, wrong chain, reverted or stuck transaction."""


class WalletError(AppError):
    """Key handling failed: bad mnemonic, wrong password, locked wallet, keyring trouble."""


class PeerError(AppError):
    """A MOR-RPC peer misbehaved or could not be reached."""


class StorageError(AppError):
    """The local database or data folder cannot be used."""


class ApiError(AppError):
    """A request to the HTTP API was invalid; ``status`` is the HTTP status to answer with."""

    def __init__(self, user_message: str, status: int = 400) -> None:
        super().__init__(user_message)
        self.status = status


class DevnetError(AppError):
    """The embedded development chain could not be started or prepared."""
