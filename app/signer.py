"""The signer port: what the rest of the app may ask of a private key, without ever seeing it."""

from __future__ import annotations

from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Signer(Protocol):
    """Operations on one secp256k1 key. Implemented by ``app.wallet``; the key stays inside."""

    @property
    def address(self) -> str:
        """The checksummed Ethereum address of the key."""
        ...

    @property
    def public_key(self) -> bytes:
        """The uncompressed 65-byte public key (``0x04 ‖ X ‖ Y``)."""
        ...

    def sign_transaction(self, tx: dict[str, Any]) -> bytes:
        """Sign a transaction dict (EIP-1559 or legacy) and return the raw signed bytes."""
        ...

    def sign_personal_hash(self, data: bytes) -> bytes:
        """EIP-191 personal-sign of ``keccak256(data)``: 65 bytes ``r‖s‖v`` with v ∈ {27, 28}."""
        ...

    def sign_raw_hash(self, data: bytes) -> bytes:
        """secp256k1 signature of ``keccak256(data)``: 65 bytes ``r‖s‖v``, low-s, v ∈ {0, 1} (MOR-RPC)."""
        ...

    def ecdh_x(self, public_key: bytes) -> bytes:
        """X coordinate (32 bytes) of the shared ECDH point with ``public_key`` (for ECIES decryption)."""
        ...
