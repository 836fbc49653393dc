"""The OS keychain store, under the Go router's names, so either program can read the other's wallet."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar

import keyring
import keyring.backend
import keyring.errors
from keyring.backends import chainer, fail

from app.errors import WalletError
from app.wallet.secret import SecretKind, WalletSecret
from app.wallet.signer import parse_private_key

log = logging.getLogger(__name__)

SERVICE = "morpheus-proxy-router"
PRIVATE_KEY_KEY = "private-key"
MNEMONIC_KEY = "mnemonic"
DERIVATION_PATH_KEY = "mnemonic-derivation-path"
# Ours alone: the Go router derives with an empty BIP-39 passphrase, so a passphrase wallet is stored for it as
# `private-key`, and the phrase + passphrase live here so "reveal recovery phrase" still works for us.
SEED_BACKUP_KEY = "desktop-seed-with-passphrase"
_ALL_KEYS = (PRIVATE_KEY_KEY, MNEMONIC_KEY, DERIVATION_PATH_KEY, SEED_BACKUP_KEY)

# keyrings.alt ships "encrypted" backends whose key sits next to the data, and plaintext/base64 ones: never secure.
_INSECURE_MODULE_PREFIXES = ("keyrings.alt", "keyring.backends.fail", "keyring.backends.null")


def is_secure_backend(backend: keyring.backend.KeyringBackend) -> bool:
    """Whether ``backend`` keeps secrets in a real OS store (fail/null/plaintext backends do not)."""
    if isinstance(backend, fail.Keyring):
        return False
    if isinstance(backend, chainer.ChainerBackend):
        return any(is_secure_backend(b) for b in backend.backends)
    module = type(backend).__module__
    return not module.startswith(_INSECURE_MODULE_PREFIXES)


class KeychainStore:
    """Reads and writes one wallet under service ``morpheus-proxy-router`` (blocking: call via to_thread)."""

    kind = "keychain"

    def __init__(self, backend: keyring.backend.KeyringBackend | None = None) -> None:
        self._backend = backend

    @property
    def backend(self) -> keyring.backend.KeyringBackend:
        """The keyring backend in use (the process-wide one unless injected)."""
        return self._backend if self._backend is not None else keyring.get_keyring()

    def _call(self, what: str, fn: Any, *args: str) -> Any:
        try:
            return fn(SERVICE, *args)
        except keyring.errors.PasswordDeleteError:
            return None
        except keyring.errors.KeyringError as e:
            # The backend's message may describe the D-Bus/Keychain failure; it never contains our secret.
            raise WalletError(
                f"The OS keychain refused to {what} ({type(e).__name__}). Unlock your keychain "
                "(e.g. log in to the desktop session) and try again."
            ) from e

    def _get(self, key: str) -> str | None:
        value = self._call("read the wallet", self.backend.get_password, key)
        return None if value is None else str(value)

    def _set(self, key: str, value: str) -> None:
        self._call("store the wallet", self.backend.set_password, key, value)

    def _delete(self, key: str) -> None:
        if self._get(key) is not None:
            self._call("delete the wallet", self.backend.delete_password, key)

    def exists(self) -> bool:
        """Whether a wallet (either Go form) is stored."""
        return self._get(PRIVATE_KEY_KEY) is not None or self._get(MNEMONIC_KEY) is not None

    def save(self, secret: WalletSecret, password: str | None = None) -> None:
        """Store ``secret`` in the Go form; the other form is deleted first-set-then-delete, like the Go router."""
        del password  # the OS keychain does its own encryption
        if secret.kind is SecretKind.MNEMONIC and not secret.passphrase:
            assert secret.mnemonic is not None
            self._set(MNEMONIC_KEY, secret.mnemonic)
            self._set(DERIVATION_PATH_KEY, secret.path)
            self._delete(PRIVATE_KEY_KEY)
            self._delete(SEED_BACKUP_KEY)
            return
        self._set(PRIVATE_KEY_KEY, "0x" + secret.derive_key().hex())
        if secret.kind is SecretKind.MNEMONIC:
            backup = {"mnemonic": secret.mnemonic, "passphrase": secret.passphrase, "path": secret.path}
            self._set(SEED_BACKUP_KEY, json.dumps(backup))
        else:
            self._delete(SEED_BACKUP_KEY)
        self._delete(MNEMONIC_KEY)
        self._delete(DERIVATION_PATH_KEY)

    def load(self, password: str | None = None) -> WalletSecret | None:
        """The stored wallet, or None. Also reads wallets written by the Go router."""
        del password
        private_key, mnemonic = self._get(PRIVATE_KEY_KEY), self._get(MNEMONIC_KEY)
        if private_key is not None and mnemonic is not None:
            raise WalletError(
                "The OS keychain holds both a private key and a recovery phrase for morpheus-proxy-router; "
                "reset the wallet and import the one you use."
            )
        if mnemonic is not None:
            path = self._get(DERIVATION_PATH_KEY)
            if path is None:
                raise WalletError(
                    "The OS keychain holds a recovery phrase without its derivation path; reset the wallet and "
                    "import the phrase again."
                )
            return _stored(lambda: WalletSecret.from_mnemonic(mnemonic, path), "recovery phrase")
        if private_key is None:
            return None
        key = _stored(lambda: parse_private_key(private_key), "private key")
        return self._with_seed_backup(key) or WalletSecret.from_private_key(key)

    def _with_seed_backup(self, key: bytes) -> WalletSecret | None:
        raw = self._get(SEED_BACKUP_KEY)
        if raw is None:
            return None
        try:
            data = json.loads(raw)
            secret = WalletSecret.from_mnemonic(data["mnemonic"], data["path"], data["passphrase"])
        except (ValueError, KeyError, TypeError, WalletError):
            log.warning("ignoring an unreadable seed backup in the OS keychain")
            return None
        if secret.derive_key() != key:
            # Someone (e.g. the Go router) replaced the key since; the backup belongs to an old wallet.
            log.info("ignoring a seed backup that belongs to a previous wallet")
            return None
        return secret

    def delete(self) -> None:
        """Remove every wallet key we or the Go router may have written."""
        for key in _ALL_KEYS:
            self._delete(key)


_T = TypeVar("_T")


def _stored(build: Callable[[], _T], what: str) -> _T:
    try:
        return build()
    except WalletError:
        raise WalletError(
            f"The {what} stored in the OS keychain is not valid; reset the wallet and import it again."
        ) from None
