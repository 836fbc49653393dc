"""MOR-RPC message signatures: sign via the wallet's Signer, verify like go-ethereum does.

``sig = secp256k1(keccak256(go_json(message with signature cleared)))``, 65 bytes ``r‖s‖v``, v ∈ {0,1},
low-s. Requests are verified against the sender's public key the way go-ethereum's
``crypto.VerifySignature`` does (v ignored, exactly 64 bytes of r‖s checked, high-s rejected); the pong
is verified by ecrecover against the provider's address (v < 4, high-s accepted).
"""

from __future__ import annotations

from typing import Protocol, Self, TypeVar

import coincurve
from coincurve.ecdsa import cdata_to_der, deserialize_compact
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak

from app.router.morrpc.messages import PingReq
from app.signer import Signer

__all__ = [
    "Signable",
    "public_key_to_address",
    "recover_address",
    "sign",
    "sign_bytes",
    "verify",
    "verify_by_address",
    "verify_bytes",
    "verify_ping",
]

_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
_HALF_N = _N // 2


class Signable(Protocol):
    """Anything with Go's "signature cleared" encoding: every message struct and the error object."""

    @property
    def signature(self) -> bytes | None: ...

    def signing_bytes(self) -> bytes: ...

    def with_signature(self, signature: bytes) -> Self: ...


S = TypeVar("S", bound=Signable)


def sign_bytes(data: bytes, signer: Signer) -> bytes:
    """Sign ``keccak256(data)``; the private key stays inside ``signer``."""
    return signer.sign_raw_hash(data)


def sign(message: S, signer: Signer) -> S:
    """Return ``message`` carrying its signature over Go's encoding with the signature cleared."""
    return message.with_signature(signer.sign_raw_hash(message.signing_bytes()))


def _public_key(public_key: bytes) -> coincurve.PublicKey | None:
    # go-ethereum's VerifySignature accepts a 65-byte uncompressed or 33-byte compressed key.
    if len(public_key) not in (33, 65):
        return None
    try:
        return coincurve.PublicKey(public_key)
    except (ValueError, TypeError):
        return None


def verify_bytes(data: bytes, signature: bytes, public_key: bytes) -> bool:
    """go-ethereum ``VerifySignature(pubkey, keccak(data), sig[:64])``: v dropped, high-s rejected."""
    if len(signature) != 65:
        return False
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    if not (0 < r < _N and 0 < s <= _HALF_N):
        return False
    key = _public_key(public_key)
    if key is None:
        return False
    der = cdata_to_der(deserialize_compact(signature[:64]))
    try:
        return bool(key.verify(der, keccak(data), hasher=None))
    except ValueError:
        return False


def verify(message: Signable, public_key: bytes) -> bool:
    """True if ``message.signature`` signs Go's re-encoding of ``message`` under ``public_key``."""
    signature = message.signature
    if not signature:
        return False
    return verify_bytes(message.signing_bytes(), signature, public_key)


def verify_ping(request: PingReq, public_key: bytes) -> bool:
    """Ping quirk: accept a signature over ``"signature":"0x"`` (Go) or over the signature omitted."""
    if verify(request, public_key):
        return True
    omitted = b'{"nonce":"0x' + request.nonce.hex().encode() + b'"}'
    return verify_bytes(omitted, request.signature, public_key)


def recover_address(data: bytes, signature: bytes) -> str | None:
    """go-ethereum ``Ecrecover``: the checksummed signer of ``keccak(data)``, or None if impossible.

    Needs 65 bytes with v < 4 (v ∈ {27,28} is *not* accepted, as in go-ethereum); high-s is accepted.
    """
    if len(signature) != 65 or signature[64] >= 4:
        return None
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:64], "big")
    if not (0 < r < _N and 0 < s < _N):
        return None
    try:
        key = coincurve.PublicKey.from_signature_and_message(signature, keccak(data), hasher=None)
    except (ValueError, TypeError):
        return None
    return public_key_to_address(key.format(compressed=False))


def verify_by_address(message: Signable, address: str) -> bool:
    """True if ``message`` was signed by ``address`` (ecrecover; used for the pong)."""
    signature = message.signature
    if not signature:
        return False
    recovered = recover_address(message.signing_bytes(), signature)
    return recovered is not None and recovered.lower() == address.lower()


def public_key_to_address(public_key: bytes) -> str:
    """Checksummed Ethereum address of a 65-byte uncompressed (or 33-byte compressed) public key."""
    key = coincurve.PublicKey(public_key).format(compressed=False)
    return to_checksum_address(keccak(key[1:])[-20:])
