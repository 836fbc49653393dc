"""The encrypted-file store for machines without an OS keychain: keystore V3 + a sealed recovery phrase."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from app.errors import StorageError, WalletError
from app.paths import describe_write_error, write_private_file
from app.wallet.keystore import ScryptParams, decrypt_keystore, encrypt_keystore, parse_keystore, seal, unseal
from app.wallet.secret import SecretKind, WalletSecret

KEYSTORE_FILE = "keystore.json"
SEED_FILE = "mnemonic.sealed.json"


class EncryptedFileStore:
    """``<wallet dir>/keystore.json`` (standard V3, scrypt) and, for phrase wallets, ``mnemonic.sealed.json``.

    Both are encrypted with the app password and written 0600. Blocking: call via ``asyncio.to_thread``.
    """

    kind = "file"

    def __init__(self, wallet_dir: Path, params: ScryptParams) -> None:
        self.keystore_path = wallet_dir / KEYSTORE_FILE
        self.seed_path = wallet_dir / SEED_FILE
        self._params = params

    def exists(self) -> bool:
        """Whether a keystore file is present."""
        return self.keystore_path.is_file()

    def save(self, secret: WalletSecret, password: str | None = None) -> None:
        """Encrypt ``secret`` with ``password`` (the app password) and write it."""
        if not password:
            raise WalletError("The encrypted wallet file needs the app password.")
        keystore = encrypt_keystore(secret.derive_key(), password, self._params)
        if secret.kind is SecretKind.MNEMONIC:
            payload = {"mnemonic": secret.mnemonic, "passphrase": secret.passphrase, "path": secret.path}
            sealed = seal(json.dumps(payload).encode(), password, self._params)
            write_private_file(self.seed_path, json.dumps(sealed, indent=2).encode())
        elif self.seed_path.exists():  # not unlink(missing_ok): on a read-only disk that fails even with no file
            try:
                self.seed_path.unlink()
            except OSError as e:
                raise StorageError(describe_write_error(self.seed_path, e)) from e
        # The keystore goes last: its presence is what marks the wallet as stored.
        write_private_file(self.keystore_path, json.dumps(keystore, indent=2).encode())

    def load(self, password: str | None = None) -> WalletSecret | None:
        """Decrypt the stored wallet; WalletError "Wrong password…" if ``password`` does not open it."""
        if not self.exists():
            return None
        if password is None:
            raise WalletError("Enter the app password to unlock the wallet.")
        try:
            keystore = parse_keystore(self.keystore_path.read_bytes())
            key = decrypt_keystore(keystore, password)
        except WalletError as e:
            if e.user_message.startswith("Wrong password"):
                raise WalletError("Wrong password. Check it (Caps Lock?) and try again.") from None
            raise WalletError(
                f"The wallet file {self.keystore_path} is damaged ({e.user_message}) Reset the wallet and "
                "restore it from your recovery phrase or key."
            ) from None
        if not self.seed_path.is_file():
            return WalletSecret.from_private_key(key)
        secret = self._load_seed(password)
        if secret.derive_key() != key:
            raise WalletError(
                f"The files in {self.keystore_path.parent} belong to different wallets; reset the wallet and "
                "restore it from your recovery phrase."
            )
        return secret

    def _load_seed(self, password: str) -> WalletSecret:
        try:
            envelope: dict[str, Any] = json.loads(self.seed_path.read_bytes())
            data = json.loads(unseal(envelope, password, what="sealed recovery phrase"))
            return WalletSecret.from_mnemonic(data["mnemonic"], data["path"], data["passphrase"])
        except (ValueError, KeyError, TypeError, WalletError):
            raise WalletError(
                f"The sealed recovery phrase {self.seed_path} is damaged; reset the wallet and restore it from "
                "your written copy."
            ) from None

    def delete(self) -> None:
        """Remove both files."""
        self.keystore_path.unlink(missing_ok=True)
        self.seed_path.unlink(missing_ok=True)
