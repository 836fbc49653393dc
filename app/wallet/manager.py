"""The wallet's lifecycle: setup, unlock, lock, auto-lock, reveal, export and reset; the only holder of the signer."""

from __future__ import annotations

import asyncio
import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Protocol

import keyring.backend

from app import paths
from app.errors import WalletError
from app.wallet.filestore import EncryptedFileStore
from app.wallet.keychain import KeychainStore, is_secure_backend
from app.wallet.keystore import ScryptParams, encrypt_keystore
from app.wallet.password import PasswordVerifier, check_new_password
from app.wallet.secret import SecretKind, WalletSecret
from app.wallet.signer import KeySigner, parse_private_key

log = logging.getLogger(__name__)

ENV_PRIVATE_KEY = "WALLET_PRIVATE_KEY"
DEFAULT_AUTO_LOCK_SECONDS = 15 * 60
VERIFIER_FILE = "app-password.json"
RESET_CONFIRMATION = "DELETE MY WALLET"
"""What the person must type to confirm a reset (the GUI shows it)."""


class LockState(StrEnum):
    """Where the wallet is: nothing set up, stored but locked, or unlocked (signer in memory)."""

    NO_WALLET = "no-wallet"
    LOCKED = "locked"
    UNLOCKED = "unlocked"


class WalletSource(StrEnum):
    """Where the key comes from."""

    KEYCHAIN = "keychain"
    FILE = "file"
    ENVIRONMENT = "environment"


@dataclass(frozen=True)
class LockEvent:
    """Published on every state change; ``reason`` is e.g. "unlocked", "manual", "idle", "reset"."""

    state: LockState
    address: str | None
    reason: str


class SecretStore(Protocol):
    """A place that keeps one wallet (OS keychain or encrypted file). Blocking methods."""

    kind: str

    def exists(self) -> bool: ...

    def save(self, secret: WalletSecret, password: str | None = None) -> None: ...

    def load(self, password: str | None = None) -> WalletSecret | None: ...

    def delete(self) -> None: ...


class WalletManager:
    """Owns the key's lifecycle. Holds a :class:`KeySigner` only while unlocked; publishes :class:`LockEvent`.

    Storage: the OS keychain when a secure backend exists (Go-router names), else an encrypted keystore in
    ``<data dir>/wallet/``. ``WALLET_PRIVATE_KEY`` in the environment overrides both and is never persisted.
    """

    def __init__(
        self,
        data_dir: Path | None = None,
        *,
        keyring_backend: keyring.backend.KeyringBackend | None = None,
        scrypt: ScryptParams | None = None,
        auto_lock_seconds: float | None = DEFAULT_AUTO_LOCK_SECONDS,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self._wallet_dir = (data_dir or paths.data_dir()) / "wallet"
        self._scrypt = scrypt or ScryptParams()
        self._keychain = KeychainStore(keyring_backend)
        # The verifier file is committed with the wallet files, so a password change never leaves them disagreeing.
        self._file = EncryptedFileStore(self._wallet_dir, self._scrypt, companions=(VERIFIER_FILE,))
        self._verifier = PasswordVerifier(self._wallet_dir / VERIFIER_FILE, self._scrypt)
        self._environ = environ if environ is not None else os.environ
        self._auto_lock_seconds = auto_lock_seconds
        self._signer: KeySigner | None = None
        self._state = LockState.NO_WALLET
        self._source: WalletSource | None = None
        self._address: str | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._listeners: list[Callable[[LockEvent], None]] = []
        self._busy = asyncio.Lock()

    def __repr__(self) -> str:
        return f"WalletManager(state={self._state.value}, address={self._address})"

    # -- observation -------------------------------------------------------------------------------------------

    @property
    def state(self) -> LockState:
        """The current lock state (call :meth:`refresh` once at start-up)."""
        return self._state

    @property
    def address(self) -> str | None:
        """The wallet's address once known (after refresh of an env wallet, setup or unlock)."""
        return self._address

    @property
    def source(self) -> WalletSource | None:
        """Where the current wallet lives, once known."""
        return self._source

    @property
    def signer(self) -> KeySigner:
        """The signer; WalletError if the wallet is locked or not set up."""
        if self._signer is None:
            raise WalletError("The wallet is locked. Unlock it with your app password.")
        return self._signer

    def subscribe(self, listener: Callable[[LockEvent], None]) -> Callable[[], None]:
        """Call ``listener`` on every lock-state change; returns a function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    def _publish(self, reason: str) -> None:
        event = LockEvent(self._state, self._address, reason)
        log.info("wallet %s (%s) %s", event.state.value, reason, event.address or "")
        for listener in list(self._listeners):
            try:
                listener(event)
            except Exception:
                log.exception("a wallet lock-state listener failed")

    # -- where the wallet lives ----------------------------------------------------------------------------------

    def _env_key(self) -> str | None:
        value = self._environ.get(ENV_PRIVATE_KEY, "").strip()
        return value or None

    def _store(self) -> SecretStore:
        """File store if a keystore exists or no secure keychain is available; else the keychain (blocking)."""
        if self._file.exists() or not is_secure_backend(self._keychain.backend):
            return self._file
        return self._keychain

    @property
    def storage_kind(self) -> str:
        """"keychain" or "file": where a new wallet would be stored (blocking: D-Bus probe on Linux)."""
        return self._store().kind

    async def refresh(self) -> LockState:
        """Work out the state from the environment and the stores (does not unlock a stored wallet)."""
        async with self._busy:
            env_key = self._env_key()
            if env_key is not None:
                self._adopt(_env_signer(env_key), WalletSource.ENVIRONMENT)
                self._publish("environment")
                return self._state
            if self._signer is not None:
                return self._state

            def stored_wallet() -> bool:
                self._file.finish_interrupted_save()
                return self._verifier.exists() and self._store().exists()

            stored = await asyncio.to_thread(stored_wallet)
            self._state = LockState.LOCKED if stored else LockState.NO_WALLET
            self._publish("refresh")
            return self._state

    async def find_existing_wallet(self) -> str | None:
        """Address of a keychain wallet readable without a password (e.g. set up by the Go router), if any."""

        def find() -> str | None:
            store = self._store()
            if not isinstance(store, KeychainStore):
                return None
            secret = store.load()
            return None if secret is None else secret.address()

        return await asyncio.to_thread(find)

    # -- setup, unlock, lock -------------------------------------------------------------------------------------

    async def setup(self, password: str, secret: WalletSecret | None) -> str:
        """Store ``secret`` (or adopt the existing keychain wallet if None), set the app password, unlock.

        Returns the address. On any error nothing new is stored.
        """
        async with self._busy:

            def work() -> tuple[KeySigner, str]:
                store = self._store()
                chosen = secret if secret is not None else store.load()
                if chosen is None:
                    raise WalletError("There is no existing wallet to use; create or import one.")
                signer = chosen.signer()
                self._save_with_password(store, chosen if secret is not None else None, password)
                return signer, store.kind

            signer, kind = await asyncio.to_thread(work)
            self._adopt(signer, WalletSource(kind))
            self._publish("set up")
            return signer.address

    async def unlock(self, password: str) -> str:
        """Check the app password and load the key. WalletError "Wrong password…" leaves everything as it was."""
        async with self._busy:
            if self._env_key() is not None:
                self._adopt(_env_signer(self._env_key() or ""), WalletSource.ENVIRONMENT)
            else:

                def work() -> tuple[KeySigner, str]:
                    self._verify(password)
                    store = self._store()
                    secret = store.load(password)
                    if secret is None:
                        raise WalletError(
                            f"No wallet is stored in the {_store_name(store.kind)}; run the wallet setup again."
                        )
                    return secret.signer(), store.kind

                signer, kind = await asyncio.to_thread(work)
                self._adopt(signer, WalletSource(kind))
            self._publish("unlocked")
            assert self._address is not None
            return self._address

    def _verify(self, password: str) -> None:
        """Check the app password (blocking), once a save a crash interrupted is finished or discarded."""
        self._file.finish_interrupted_save()
        self._verifier.verify(password)

    def _save_with_password(self, store: SecretStore, secret: WalletSecret | None, password: str) -> None:
        """Store ``secret`` (None: keep the stored one) and the app password's verifier (blocking).

        In the file store both go in one commit: a failure leaves the old wallet with its old password.
        """
        if secret is not None and store is self._file:
            self._file.save(secret, password, {VERIFIER_FILE: self._verifier.record(password)})
            return
        if secret is not None:
            store.save(secret, password)
        self._verifier.write(password)

    def _adopt(self, signer: KeySigner, source: WalletSource) -> None:
        self._signer, self._source, self._address = signer, source, signer.address
        self._state = LockState.UNLOCKED
        self._schedule_auto_lock()

    def lock(self, reason: str = "manual") -> None:
        """Drop the key from memory. A no-op when already locked."""
        self._cancel_timer()
        if self._signer is None:
            return
        self._signer = None
        self._state = LockState.LOCKED
        self._publish(reason)

    # -- auto-lock -----------------------------------------------------------------------------------------------

    @property
    def auto_lock_seconds(self) -> float | None:
        """Idle time before auto-lock; None or 0 disables it."""
        return self._auto_lock_seconds

    @auto_lock_seconds.setter
    def auto_lock_seconds(self, seconds: float | None) -> None:
        if seconds is not None and seconds < 0:
            raise WalletError("The auto-lock time cannot be negative.")
        self._auto_lock_seconds = seconds
        self._schedule_auto_lock()

    def touch(self) -> None:
        """Record user activity: restarts the idle countdown while unlocked."""
        self._schedule_auto_lock()

    def _schedule_auto_lock(self) -> None:
        self._cancel_timer()
        # An env-var wallet is for headless use: nobody is there to unlock it again.
        if self._signer is None or not self._auto_lock_seconds or self._source is WalletSource.ENVIRONMENT:
            return
        self._timer = asyncio.get_running_loop().call_later(self._auto_lock_seconds, self.lock, "idle")

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # -- secrets on demand ----------------------------------------------------------------------------------------

    async def _load_with_password(self, password: str) -> WalletSecret:
        def work() -> WalletSecret:
            self._verify(password)
            secret = self._store().load(password)
            if secret is None:
                raise WalletError("No wallet is stored on this computer.")
            return secret

        if self._source is WalletSource.ENVIRONMENT:
            raise WalletError(f"The wallet comes from {ENV_PRIVATE_KEY}; there is nothing stored to reveal.")
        return await asyncio.to_thread(work)

    async def reveal_mnemonic(self, password: str) -> WalletSecret:
        """The recovery phrase (+ passphrase and path), after re-checking the app password."""
        secret = await self._load_with_password(password)
        if secret.kind is not SecretKind.MNEMONIC:
            raise WalletError("This wallet was imported from a private key; it has no recovery phrase to show.")
        log.info("recovery phrase revealed to the user")
        return secret

    async def export_keystore(self, password: str, keystore_password: str | None = None) -> str:
        """Keystore V3 JSON (scrypt) of the key, encrypted with ``keystore_password`` (default: app password)."""
        if keystore_password is not None and len(keystore_password) < 8:
            raise WalletError("Choose a keystore password of at least 8 characters.")
        secret = await self._load_with_password(password)
        target = keystore_password if keystore_password is not None else password
        params = ScryptParams(n=self._scrypt.n)
        keystore = await asyncio.to_thread(encrypt_keystore, secret.derive_key(), target, params)
        return json.dumps(keystore, indent=2)

    async def change_password(self, old_password: str, new_password: str, confirmation: str) -> None:
        """Replace the app password (re-encrypting the wallet file when that is the store)."""
        check_new_password(new_password, confirmation)
        if self._source is WalletSource.ENVIRONMENT:
            raise WalletError(f"The wallet comes from {ENV_PRIVATE_KEY}; it has no app password to change.")
        async with self._busy:

            def work() -> None:
                self._verify(old_password)
                store = self._store()
                secret = None
                if store.kind == "file":
                    secret = store.load(old_password)
                    if secret is None:
                        raise WalletError("No wallet is stored on this computer.")
                self._save_with_password(store, secret, new_password)

            await asyncio.to_thread(work)
        log.info("app password changed")

    async def reset(self, confirmation: str) -> None:
        """Wipe the stored key, recovery phrase and app password, after the person typed the confirmation."""
        if confirmation.strip().upper() != RESET_CONFIRMATION:
            raise WalletError(f'To delete the wallet from this computer, type "{RESET_CONFIRMATION}".')
        async with self._busy:

            def work() -> None:
                self._file.delete()
                if is_secure_backend(self._keychain.backend):
                    self._keychain.delete()
                self._verifier.delete()

            await asyncio.to_thread(work)
            self._cancel_timer()
            self._signer, self._address, self._source = None, None, None
            self._state = LockState.NO_WALLET
            self._publish("reset")


def _env_signer(value: str) -> KeySigner:
    try:
        return KeySigner(parse_private_key(value))
    except WalletError as e:
        raise WalletError(f"{ENV_PRIVATE_KEY} is not usable: {e.user_message}") from None


def _store_name(kind: str) -> str:
    return "OS keychain" if kind == "keychain" else "encrypted wallet file"
