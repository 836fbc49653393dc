"""The in-memory signer: the only object that holds a private key, exposing operations, never the key."""

from __future__ import annotations

from typing import Any

import coincurve
from eth_hash.auto import keccak  # eth_utils' keccak without its ~0.15 s of imports (pydantic)

from app import secret_marks
from app.errors import WalletError

_SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def parse_private_key(text: str) -> bytes:
    """Parse a hex private key (with or without ``0x``) into 32 bytes, or raise a WalletError that says why."""
    cleaned = text.strip()
    if cleaned[:2].lower() == "0x":
        cleaned = cleaned[2:]
    if len(cleaned) != 64:
        raise WalletError(f"A private key is 64 hex characters (optionally after 0x); this one has {len(cleaned)}.")
    try:
        raw = bytes.fromhex(cleaned)
    except ValueError:
        raise WalletError("A private key may contain only the hex digits 0-9 and a-f.") from None
    if not 0 < int.from_bytes(raw, "big") < _SECP256K1_N:
        raise WalletError("This is not a valid secp256k1 private key (out of range).")
    return raw


class KeySigner:
    """Implements :class:`app.signer.Signer` for one private key held in memory.

    The key is never returned, logged or put in an exception; ``repr`` shows the address only.
    """

    __slots__ = ("_account", "_key", "_public_key")

    def __init__(self, private_key: bytes) -> None:
        if len(private_key) != 32:
            raise WalletError("A private key is exactly 32 bytes.")
        from eth_account import Account  # on first use: ~0.6 s of imports the entry screens do not need

        self._key = coincurve.PrivateKey(private_key)
        secret_marks.remember(private_key)  # so log redaction hides this key if anything ever logs it
        self._account = Account.from_key(private_key)
        self._public_key = self._key.public_key.format(compressed=False)

    @classmethod
    def from_hex(cls, text: str) -> KeySigner:
        """Build a signer from a hex private key, validating it first."""
        return cls(parse_private_key(text))

    def __repr__(self) -> str:
        return f"KeySigner({self.address})"

    @property
    def address(self) -> str:
        return str(self._account.address)

    @property
    def public_key(self) -> bytes:
        return self._public_key

    def sign_transaction(self, tx: dict[str, Any]) -> bytes:
        signed = self._account.sign_transaction(tx)
        return bytes(signed.raw_transaction)

    def sign_personal_hash(self, data: bytes) -> bytes:
        from eth_account.messages import encode_defunct

        signed = self._account.sign_message(encode_defunct(primitive=keccak(data)))
        return bytes(signed.signature)

    def sign_raw_hash(self, data: bytes) -> bytes:
        # coincurve returns r‖s‖recid with low-s already enforced (libsecp256k1 normalises s).
        return bytes(self._key.sign_recoverable(keccak(data), hasher=None))

    def ecdh_x(self, public_key: bytes) -> bytes:
        try:
            point = coincurve.PublicKey(public_key).multiply(self._key.secret)
        except (ValueError, TypeError) as e:
            raise WalletError("The peer's public key is not a valid secp256k1 point.") from e
        return point.format(compressed=False)[1:33]
