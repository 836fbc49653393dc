"""Chain-layer error types: every way talking to a chain can fail, each with words for the user."""

from __future__ import annotations

from typing import Any

from app.errors import ChainError


class ChainUnreachableError(ChainError):
    """No configured RPC endpoint answered."""

    def __init__(self, user_message: str, urls: tuple[str, ...] = ()) -> None:
        super().__init__(user_message)
        self.urls = urls


class WrongChainError(ChainError):
    """The RPC endpoint serves a different chain than the one configured."""

    def __init__(self, user_message: str, url: str, actual: int, expected: int) -> None:
        super().__init__(user_message)
        self.url = url
        self.actual = actual
        self.expected = expected


class ContractRevertError(ChainError):
    """A call or transaction reverted; ``error_name``/``args`` say which custom error (or Error/Panic)."""

    def __init__(self, user_message: str, error_name: str, args: tuple[Any, ...] = (), data: bytes = b"") -> None:
        super().__init__(user_message)
        self.error_name = error_name
        # ``args`` carries the decoded error arguments (as the brief's API promises), so ``__str__`` must not
        # rely on it: it returns the user message.
        self.args = args
        self.data = data

    def __str__(self) -> str:
        return self.user_message


class TxRejectedError(ChainError):
    """The node refused to accept a transaction (insufficient funds, fee too low, bad nonce...)."""


class TxTimeoutError(ChainError):
    """A transaction was not mined in time, even after raising its fees."""

    def __init__(self, user_message: str, tx_hashes: tuple[str, ...], nonce: int) -> None:
        super().__init__(user_message)
        self.tx_hashes = tx_hashes
        self.nonce = nonce
