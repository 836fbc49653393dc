"""go-ethereum ``crypto/ecies`` with ``ECIES_AES128_SHA256`` and empty s1/s2, byte for byte.

Ciphertext = ``R`` (65-byte uncompressed ephemeral public key) ‖ ``IV`` (16) ‖ AES-128-CTR(Ke, m) ‖
HMAC-SHA256(Km, IV ‖ ct) (32), where ``K = ConcatKDF-SHA256(ECDH_x(r, P))`` (32-bit big-endian
counter from 1), ``Ke = K[0:16]`` and ``Km = SHA256(K[16:32])``.

Decryption takes the recipient's :class:`app.signer.Signer` (or any ``ecdh_x(pubkey) -> x`` callable),
so the private key never leaves the wallet.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable

import coincurve
from coincurve.utils import get_valid_secret, validate_secret
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from app.errors import WalletError
from app.router.morrpc.exceptions import EciesError
from app.signer import Signer

__all__ = ["OVERHEAD", "concat_kdf", "decrypt", "derive_keys", "encrypt"]

_PUBKEY_LEN = 65
_IV_LEN = 16
_TAG_LEN = 32
OVERHEAD = _PUBKEY_LEN + _IV_LEN + _TAG_LEN  # 113 bytes added to every message

EcdhX = Callable[[bytes], bytes]


def concat_kdf(z: bytes, length: int = 32, s1: bytes = b"") -> bytes:
    """NIST SP 800-56 concatenation KDF with SHA-256, counter starting at 1 (go-ethereum ``concatKDF``)."""
    out = b""
    counter = 1
    while len(out) < length:
        out += hashlib.sha256(counter.to_bytes(4, "big") + z + s1).digest()
        counter += 1
    return out[:length]


def derive_keys(z: bytes) -> tuple[bytes, bytes]:
    """``(Ke, Km)`` from the shared x coordinate: ``K[0:16]`` and ``SHA256(K[16:32])``."""
    k = concat_kdf(z, 32)
    return k[:16], hashlib.sha256(k[16:]).digest()


def _aes_ctr(key: bytes, iv: bytes, data: bytes) -> bytes:
    # AES-CTR treats the whole 16-byte IV as a big-endian counter, like Go's cipher.NewCTR.
    cipher = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return cipher.update(data) + cipher.finalize()


def _encrypt_with(public_key: bytes, message: bytes, ephemeral_secret: bytes | None, iv: bytes) -> bytes:
    recipient = coincurve.PublicKey(public_key)
    # A fresh secret from os.urandom when none is given; only the public point is derived (PrivateKey
    # would also compute an x-only key, a wasted scalar multiplication per streamed chunk).
    secret = get_valid_secret() if ephemeral_secret is None else validate_secret(ephemeral_secret)
    ephemeral_public = coincurve.PublicKey.from_valid_secret(secret)
    z = recipient.multiply(secret).format(compressed=False)[1:33]
    ke, km = derive_keys(z)
    em = iv + _aes_ctr(ke, iv, message)
    tag = hmac.new(km, em, hashlib.sha256).digest()
    return ephemeral_public.format(compressed=False) + em + tag


def encrypt(public_key: bytes, message: bytes) -> bytes:
    """Encrypt ``message`` to a secp256k1 public key (65-byte uncompressed or 33-byte compressed).

    Raises:
        EciesError: the message is empty (go-ethereum refuses it) or the public key is invalid.
    """
    if not message:
        raise EciesError("Cannot encrypt an empty message (go-ethereum's ECIES refuses it).")
    try:
        return _encrypt_with(public_key, message, None, os.urandom(_IV_LEN))
    except (ValueError, TypeError) as e:
        raise EciesError("The recipient's public key is not a valid secp256k1 key.") from e


def decrypt(key: Signer | EcdhX, ciphertext: bytes) -> bytes:
    """Open a go-ethereum ECIES ciphertext with the recipient's key (a Signer or an ``ecdh_x`` callable).

    Applies go-ethereum's checks: first byte 2, 3 or 4, at least 113 bytes, only an uncompressed (0x04)
    ephemeral key, and a constant-time tag comparison before anything is decrypted.

    Raises:
        EciesError: malformed, tampered with, or not encrypted to this key.
    """
    if not ciphertext or ciphertext[0] not in (2, 3, 4):
        raise EciesError("The peer's encrypted message is malformed (bad ephemeral public key).")
    if len(ciphertext) < OVERHEAD:
        raise EciesError("The peer's encrypted message is too short to be valid.")
    if ciphertext[0] != 4:
        raise EciesError("The peer's encrypted message uses a compressed ephemeral key, which is not accepted.")
    ephemeral = ciphertext[:_PUBKEY_LEN]
    try:
        coincurve.PublicKey(ephemeral)
    except (ValueError, TypeError) as e:
        raise EciesError("The peer's encrypted message carries an invalid ephemeral public key.") from e
    ecdh_x = key if callable(key) else key.ecdh_x
    try:
        z = ecdh_x(ephemeral)
    except WalletError as e:
        raise EciesError("The peer's encrypted message carries an invalid ephemeral public key.") from e
    ke, km = derive_keys(z)
    em = ciphertext[_PUBKEY_LEN:-_TAG_LEN]
    expected = hmac.new(km, em, hashlib.sha256).digest()
    if not hmac.compare_digest(expected, ciphertext[-_TAG_LEN:]):
        raise EciesError("The peer's encrypted message failed its integrity check (wrong key or tampered).")
    return _aes_ctr(ke, em[:_IV_LEN], em[_IV_LEN:])
