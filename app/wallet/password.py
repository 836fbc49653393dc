"""The app password: rules for choosing one, and a slow salted scrypt verifier stored in a 0600 file."""

from __future__ import annotations

import hmac
import json
import os
from pathlib import Path
from typing import Any

from app.errors import WalletError
from app.paths import write_private_file
from app.wallet.keystore import ScryptParams, scrypt

MIN_PASSWORD_LENGTH = 8


def check_new_password(password: str, confirmation: str) -> None:
    """Raise a WalletError saying what is wrong with a newly chosen password, or return quietly."""
    if not password:
        raise WalletError("Choose an app password; it protects access to your wallet on this computer.")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WalletError(
            f"The app password must be at least {MIN_PASSWORD_LENGTH} characters long "
            f"(this one has {len(password)})."
        )
    if password.strip() != password:
        raise WalletError("The app password must not start or end with a space; it is too easy to mistype.")
    if password != confirmation:
        raise WalletError("The two passwords differ; type the same password in both fields.")


class PasswordVerifier:
    """Stores ``scrypt(password, salt)`` and checks candidates against it; never the password itself."""

    def __init__(self, path: Path, params: ScryptParams) -> None:
        self.path = path
        self._params = params

    def exists(self) -> bool:
        """Whether an app password has been set."""
        return self.path.is_file()

    def write(self, password: str) -> None:
        """Store a fresh verifier for ``password`` (slow: call off the event loop)."""
        write_private_file(self.path, self.record(password))

    def record(self, password: str) -> bytes:
        """The file content :meth:`write` stores, for a caller that commits it together with other files."""
        salt = os.urandom(32)
        record = {
            "version": 1,
            "kdf": "scrypt",
            "n": self._params.n,
            "r": self._params.r,
            "p": self._params.p,
            "salt": salt.hex(),
            "hash": self._params.derive(password, salt).hex(),
        }
        return json.dumps(record, indent=2).encode()

    def verify(self, password: str) -> None:
        """Raise WalletError "Wrong password…" unless ``password`` matches (slow: call off the event loop)."""
        record = self._read()
        try:
            salt, expected = bytes.fromhex(record["salt"]), bytes.fromhex(record["hash"])
            n, r, p = int(record["n"]), int(record["r"]), int(record["p"])
        except (KeyError, TypeError, ValueError):
            raise WalletError(
                f"The app password file {self.path} is corrupt. Reset the wallet and restore it from your "
                "recovery phrase or key."
            ) from None
        if not hmac.compare_digest(scrypt(password, salt, n, r, p), expected):
            raise WalletError("Wrong password. Check it (Caps Lock?) and try again.")

    def _read(self) -> dict[str, Any]:
        try:
            record = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise WalletError("No app password is set yet; run the wallet setup first.") from None
        except (OSError, ValueError) as e:
            raise WalletError(f"The app password file {self.path} cannot be read ({type(e).__name__}).") from None
        if not isinstance(record, dict):
            raise WalletError(f"The app password file {self.path} is corrupt.")
        return record

    def delete(self) -> None:
        """Remove the verifier (part of a wallet reset)."""
        self.path.unlink(missing_ok=True)
