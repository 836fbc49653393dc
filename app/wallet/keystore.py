"""Password encryption at rest: keystore V3 (scrypt) for keys, and a V3-shaped envelope for other secrets.

The envelope (``seal``/``unseal``) is our own format, deliberately identical to keystore V3's ``crypto``
section so it can be audited against the same spec::

    {"version": 1, "kind": "morpheus-sealed-secret",
     "crypto": {"cipher": "aes-128-ctr", "cipherparams": {"iv": <16 bytes hex>},
                "ciphertext": <hex>, "kdf": "scrypt",
                "kdfparams": {"dklen": 32, "n": N, "r": 8, "p": 1, "salt": <32 bytes hex>},
                "mac": keccak256(dk[16:32] ‖ ciphertext) hex}}

where ``dk = scrypt(password_utf8, salt, N, r, p, 32)`` and the cipher key is ``dk[:16]``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from eth_hash.auto import keccak  # eth_utils' keccak without its ~0.15 s of imports (pydantic)

from app.errors import WalletError
from app.wallet.signer import parse_private_key

# eth_account (with eth_keyfile, eth_keys and py_ecc: ~0.6 s of imports) is imported where a keystore is encrypted or
# decrypted, not here: the wizard and unlock screens import this module and must show at once. load_key_libraries()
# warms it on a worker thread once they are on screen.

ENVELOPE_KIND = "morpheus-sealed-secret"
_MAX_SCRYPT_N = 2**20  # refuse files that would make us allocate more than ~1 GiB


@dataclass(frozen=True)
class ScryptParams:
    """scrypt cost: ``n`` (CPU/memory), ``r`` (block size), ``p`` (parallelism). Default = geth's "standard"."""

    n: int = 2**18
    r: int = 8
    p: int = 1

    def derive(self, password: str, salt: bytes) -> bytes:
        """32 bytes of key material from ``password`` (slow: call off the event loop)."""
        return scrypt(password, salt, self.n, self.r, self.p)


def scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    """hashlib.scrypt with enough memory allowance for ``n``."""
    if not (1 < n <= _MAX_SCRYPT_N and n & (n - 1) == 0 and 0 < r <= 32 and 0 < p <= 16):
        raise WalletError("The encrypted file uses scrypt parameters out of the supported range; it looks corrupt.")
    return hashlib.scrypt(
        password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32, maxmem=256 * n * r + 2**24
    )


def _aes_ctr(key: bytes, iv: bytes, data: bytes) -> bytes:
    cryptor = Cipher(algorithms.AES(key), modes.CTR(iv)).encryptor()
    return cryptor.update(data) + cryptor.finalize()


def seal(plaintext: bytes, password: str, params: ScryptParams) -> dict[str, Any]:
    """Encrypt ``plaintext`` under ``password`` into the envelope documented above."""
    salt, iv = os.urandom(32), os.urandom(16)
    dk = params.derive(password, salt)
    ciphertext = _aes_ctr(dk[:16], iv, plaintext)
    return {
        "version": 1,
        "kind": ENVELOPE_KIND,
        "crypto": {
            "cipher": "aes-128-ctr",
            "cipherparams": {"iv": iv.hex()},
            "ciphertext": ciphertext.hex(),
            "kdf": "scrypt",
            "kdfparams": {"dklen": 32, "n": params.n, "r": params.r, "p": params.p, "salt": salt.hex()},
            "mac": keccak(dk[16:32] + ciphertext).hex(),
        },
    }


def unseal(envelope: dict[str, Any], password: str, what: str = "encrypted wallet file") -> bytes:
    """Decrypt an envelope; WalletError "Wrong password…" on MAC mismatch, "…corrupt…" on bad structure."""
    try:
        if envelope.get("kind") != ENVELOPE_KIND or envelope.get("version") != 1:
            raise KeyError("kind")
        crypto = envelope["crypto"]
        kdfparams = crypto["kdfparams"]
        if crypto["cipher"] != "aes-128-ctr" or crypto["kdf"] != "scrypt" or kdfparams["dklen"] != 32:
            raise KeyError("cipher")
        salt = bytes.fromhex(kdfparams["salt"])
        iv = bytes.fromhex(crypto["cipherparams"]["iv"])
        ciphertext = bytes.fromhex(crypto["ciphertext"])
        mac = bytes.fromhex(crypto["mac"])
        n, r, p = int(kdfparams["n"]), int(kdfparams["r"]), int(kdfparams["p"])
    except (KeyError, TypeError, ValueError, AttributeError):
        raise WalletError(f"The {what} is corrupt (its structure is not what this app writes).") from None
    dk = scrypt(password, salt, n, r, p)
    if not hmac.compare_digest(keccak(dk[16:32] + ciphertext), mac):
        raise WalletError(f"Wrong password for the {what}. Check the password and try again.")
    return _aes_ctr(dk[:16], iv, ciphertext)


def encrypt_keystore(private_key: bytes, password: str, params: ScryptParams) -> dict[str, Any]:
    """A standard keystore V3 dict (scrypt), readable by geth, MetaMask, eth-account and this app."""
    if (params.r, params.p) != (8, 1):
        raise WalletError("Keystore V3 files are written with scrypt r=8, p=1.")
    from eth_account import Account

    return dict(Account.encrypt(private_key, password, kdf="scrypt", iterations=params.n))


def parse_keystore(text: str | bytes) -> dict[str, Any]:
    """Parse and shape-check keystore V3 JSON; WalletError that says what is wrong with the file."""
    try:
        data = json.loads(text)
    except (ValueError, UnicodeDecodeError):
        raise WalletError("This keystore file is corrupt: it is not valid JSON.") from None
    if not isinstance(data, dict):
        raise WalletError("This keystore file is corrupt: it is not a JSON object.")
    crypto = data.get("crypto", data.get("Crypto"))
    if data.get("version") != 3:
        raise WalletError(
            f"This is not a keystore V3 file (version {data.get('version')!r}); export a V3 (scrypt or pbkdf2) "
            "keystore from your wallet."
        )
    if not isinstance(crypto, dict) or not {"ciphertext", "cipherparams", "kdf", "kdfparams", "mac"} <= set(crypto):
        raise WalletError("This keystore file is corrupt: its 'crypto' section is incomplete.")
    kdfparams = crypto["kdfparams"]
    if crypto["kdf"] not in ("scrypt", "pbkdf2") or not isinstance(kdfparams, dict):
        raise WalletError(f"This keystore file uses an unsupported key derivation ({crypto['kdf']!r}).")
    if crypto["kdf"] == "scrypt" and not (1 < int(kdfparams.get("n", 0)) <= _MAX_SCRYPT_N):
        raise WalletError("This keystore file asks for an out-of-range scrypt cost; it looks corrupt.")
    if crypto["kdf"] == "pbkdf2" and not (0 < int(kdfparams.get("c", 0)) <= 10_000_000):
        raise WalletError("This keystore file asks for an out-of-range PBKDF2 cost; it looks corrupt.")
    return data


def decrypt_keystore(keystore: str | bytes | dict[str, Any], password: str) -> bytes:
    """The private key inside a keystore V3 (slow: call off the event loop)."""
    data = keystore if isinstance(keystore, dict) else parse_keystore(keystore)
    from eth_account import Account

    try:
        raw = bytes(Account.decrypt(data, password))
    except ValueError as e:
        # eth-keyfile signals a wrong password only as "MAC mismatch"; anything else is a damaged file.
        if "MAC mismatch" in str(e):
            raise WalletError("Wrong password for this keystore file. Check the password and try again.") from None
        raise WalletError("This keystore file is corrupt: it could not be decrypted.") from None
    except (KeyError, TypeError, AttributeError, NotImplementedError):
        raise WalletError("This keystore file is corrupt: it could not be decrypted.") from None
    # A valid MAC with a malformed payload still means a damaged file, not a usable key.
    try:
        return parse_private_key(raw.hex())
    except WalletError:
        raise WalletError("This keystore file is corrupt: the decrypted key is not valid.") from None


def load_key_libraries() -> None:
    """Import eth-account now (blocking: call on a worker thread), so the first unlock or import does not wait for it.

    The import system is thread-safe: a key operation starting meanwhile waits for this import instead of repeating it.
    """
    import eth_account  # noqa: F401 - imported for its side effect: the module cache is warm
