"""Exceptions raised by the MOR-RPC codec: every one is a PeerError a user can read."""

from __future__ import annotations

from app.errors import PeerError


class MorRpcProtocolError(PeerError):
    """A MOR-RPC peer sent bytes that are not a valid message (bad JSON, wrong type, missing field, too big).

    ``field`` names the offending field (dotted path) when there is one.
    """

    def __init__(self, user_message: str, field: str | None = None) -> None:
        super().__init__(user_message)
        self.field = field


class MorRpcSignatureError(MorRpcProtocolError):
    """A MOR-RPC message or on-chain approval/receipt carries a signature that does not verify."""


class EciesError(MorRpcProtocolError):
    """An ECIES ciphertext could not be opened: malformed, wrong key, or tampered with."""


class MorRpcTimeoutError(PeerError):
    """A MOR-RPC peer did not send anything within the allowed time."""
