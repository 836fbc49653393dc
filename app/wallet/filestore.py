"""The encrypted-file store for machines without an OS keychain: keystore V3 + a sealed recovery phrase."""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.errors import StorageError, WalletError
from app.paths import describe_write_error, write_private_file
from app.wallet.keystore import ScryptParams, decrypt_keystore, encrypt_keystore, parse_keystore, seal, unseal
from app.wallet.secret import SecretKind, WalletSecret

log = logging.getLogger(__name__)

KEYSTORE_FILE = "keystore.json"
SEED_FILE = "mnemonic.sealed.json"
STAGED_SUFFIX = ".new"
"""A save first writes ``<file>.new`` next to each file; they become the wallet only once a commit marker exists."""
COMMIT_WITH_PHRASE = "save-committed.with-phrase"
COMMIT_KEY_ONLY = "save-committed.key-only"
# The commit markers are empty: the name alone says whether the new wallet has a recovery-phrase file, so a
# marker can never be half-written or unreadable.
_COMMIT_MARKERS = (COMMIT_WITH_PHRASE, COMMIT_KEY_ONLY)
UNMATCHED_SUFFIX = ".unmatched"  # a phrase file that belongs to no stored wallet (see load)
_TMP_SUFFIX = ".tmp"  # what write_private_file writes before its rename


class EncryptedFileStore:
    """``<wallet dir>/keystore.json`` (standard V3, scrypt) and, for phrase wallets, ``mnemonic.sealed.json``.

    Both are encrypted with the app password and written 0600. A save is all-or-nothing across the two files:
    the new files are staged as ``*.new``, an empty commit marker makes them the wallet, then they are renamed
    into place and the marker removed. Whatever step a crash or a full disk interrupts, :meth:`load` reads either
    the old wallet or the new one and finishes or discards the interrupted save. ``companions`` names other
    files of the folder (the app-password verifier) that a save may replace in the same commit, so they can
    never disagree with the wallet either. Blocking: call via ``asyncio.to_thread``.
    """

    kind = "file"

    def __init__(self, wallet_dir: Path, params: ScryptParams, companions: tuple[str, ...] = ()) -> None:
        self.keystore_path = wallet_dir / KEYSTORE_FILE
        self.seed_path = wallet_dir / SEED_FILE
        self._dir = wallet_dir
        self._params = params
        self._companions = [wallet_dir / name for name in companions]

    # -- reading ---------------------------------------------------------------------------------------------

    def exists(self) -> bool:
        """Whether a wallet is stored (a keystore, or a committed save not yet renamed into place)."""
        return self._current()[0] is not None

    def load(self, password: str | None = None) -> WalletSecret | None:
        """Decrypt the stored wallet; WalletError "Wrong password…" if ``password`` does not open it.

        First finishes (or discards) a save that was interrupted; if the disk refuses that, it reads the
        interrupted save as it stands, so the wallet still opens.
        """
        self._tidy_best_effort()
        keystore_path, seed_path = self._current()
        if keystore_path is None:
            return None
        if password is None:
            raise WalletError("Enter the app password to unlock the wallet.")
        try:
            keystore = parse_keystore(keystore_path.read_bytes())
            key = decrypt_keystore(keystore, password)
        except WalletError as e:
            if e.user_message.startswith("Wrong password"):
                raise WalletError("Wrong password. Check it (Caps Lock?) and try again.") from None
            raise WalletError(
                f"The wallet file {keystore_path} is damaged ({e.user_message}) Reset the wallet and "
                "restore it from your recovery phrase or key."
            ) from None
        if seed_path is None:
            return WalletSecret.from_private_key(key)
        secret = self._load_seed(seed_path, password)
        if secret.derive_key() != key:
            # Only an interrupted save by an older version leaves this (its new phrase file, its old keystore).
            # The keystore is the wallet; the phrase file is kept for the person, under a name nothing reads.
            log.warning("the recovery-phrase file does not match the keystore; using the keystore's key")
            self._set_aside(seed_path)
            return WalletSecret.from_private_key(key)
        return secret

    def _load_seed(self, seed_path: Path, password: str) -> WalletSecret:
        try:
            envelope: dict[str, Any] = json.loads(seed_path.read_bytes())
            data = json.loads(unseal(envelope, password, what="sealed recovery phrase"))
            return WalletSecret.from_mnemonic(data["mnemonic"], data["path"], data["passphrase"])
        except (ValueError, KeyError, TypeError, WalletError):
            raise WalletError(
                f"The sealed recovery phrase {seed_path} is damaged; reset the wallet and restore it from "
                "your written copy."
            ) from None

    def _committed(self) -> bool | None:
        """None: no save is pending; True/False: a committed save of a wallet with/without a phrase file."""
        if (self._dir / COMMIT_WITH_PHRASE).is_file():
            return True  # checked first: if both were ever there, keeping a phrase file is the safe reading
        if (self._dir / COMMIT_KEY_ONLY).is_file():
            return False
        return None

    def _current(self) -> tuple[Path | None, Path | None]:
        """The (keystore, phrase file) that hold the wallet right now, reading a committed save as done."""
        committed = self._committed()
        if committed is None:  # staged files without a marker are an unfinished save: not the wallet
            if not self.keystore_path.is_file():
                return None, None
            return self.keystore_path, self.seed_path if self.seed_path.is_file() else None
        keystore = _first_file(_staged(self.keystore_path), self.keystore_path)
        seed = _first_file(_staged(self.seed_path), self.seed_path) if committed else None
        return keystore, seed

    # -- writing ---------------------------------------------------------------------------------------------

    def save(
        self, secret: WalletSecret, password: str | None = None, companions: Mapping[str, bytes] | None = None
    ) -> None:
        """Encrypt ``secret`` with ``password`` (the app password) and write it, all or nothing.

        ``companions`` (file name -> new content, names given to the constructor) are replaced in the same
        commit. On a StorageError the old wallet and companions (if any) are stored as before. Once this
        returns, the new ones are.
        """
        if not password:
            raise WalletError("The encrypted wallet file needs the app password.")
        staged = [(self._companion(name), data) for name, data in (companions or {}).items()]
        keystore = json.dumps(encrypt_keystore(secret.derive_key(), password, self._params), indent=2).encode()
        staged.append((self.keystore_path, keystore))
        if secret.kind is SecretKind.MNEMONIC:
            payload = {"mnemonic": secret.mnemonic, "passphrase": secret.passphrase, "path": secret.path}
            sealed = seal(json.dumps(payload).encode(), password, self._params)
            staged.insert(-1, (self.seed_path, json.dumps(sealed, indent=2).encode()))
        self._tidy()  # a previous interrupted save must be finished before this one stages over it
        marker = self._dir / (COMMIT_WITH_PHRASE if secret.kind is SecretKind.MNEMONIC else COMMIT_KEY_ONLY)
        try:
            for final, data in staged:
                self._stage(final, data)
            self._sync_dir()  # the staged files must be on disk before the marker that points at them
            self._write(marker, b"", self.keystore_path)
        except StorageError:
            if self._committed() is None:
                with contextlib.suppress(OSError):
                    self._discard_staged()
            raise
        self._sync_dir()  # the commit must be on disk before any rename that relies on it
        try:
            self._roll_forward(secret.kind is SecretKind.MNEMONIC)
        except OSError:
            # Committed: load() reads the staged files and finishes the renames next time.
            log.warning("the new wallet is saved; putting its files in place will finish on the next unlock")

    def _companion(self, name: str) -> Path:
        path = self._dir / name
        if path not in self._companions:  # recovery would not know to finish or discard it
            raise ValueError(f"{name} is not a companion file of this wallet store")
        return path

    def finish_interrupted_save(self) -> None:
        """Finish or discard a save a crash interrupted (best effort): call before reading a companion file."""
        self._tidy_best_effort()

    def _stage(self, final: Path, data: bytes) -> None:
        staged = _staged(final)
        self._write(staged, data, final)
        try:
            written = staged.read_bytes()
        except OSError as e:
            raise StorageError(describe_write_error(final, e)) from e
        if written != data:
            raise StorageError(
                f"Cannot write {final}: the file read back differently from what was written. "
                "Check the disk, then retry."
            )

    @staticmethod
    def _write(path: Path, data: bytes, named: Path) -> None:
        """write_private_file, with errors naming ``named`` (the file the person knows), not a staging name."""
        try:
            write_private_file(path, data)
        except StorageError as e:
            if isinstance(e.__cause__, OSError):
                raise StorageError(describe_write_error(named, e.__cause__)) from e.__cause__
            raise

    def _roll_forward(self, with_phrase: bool) -> None:
        """Put a committed save's files in place. Each step leaves a state :meth:`_current` reads as the new wallet."""
        for final in (*self._companions, self.keystore_path):
            staged = _staged(final)
            if staged.exists():
                os.replace(staged, final)
        staged_seed = _staged(self.seed_path)
        if with_phrase:
            if staged_seed.exists():
                os.replace(staged_seed, self.seed_path)
        else:
            # The old wallet's phrase goes only now, with the new keystore in place and the marker saying so.
            if self.seed_path.exists():
                os.unlink(self.seed_path)
            if staged_seed.exists():  # cannot be staged under a key-only commit; never let it linger
                os.unlink(staged_seed)
        self._sync_dir()  # the renames must be on disk before the marker that covers them goes
        for name in _COMMIT_MARKERS:
            marker = self._dir / name
            if marker.exists():
                os.unlink(marker)
        self._sync_dir()

    def _discard_staged(self) -> None:
        """Remove an uncommitted save's staged files (the stored wallet is still the old pair)."""
        for final in (*self._companions, self.keystore_path, self.seed_path):
            staged = _staged(final)
            if staged.exists():
                os.unlink(staged)

    def _remove_temporaries(self) -> None:
        """Remove write_private_file's leftovers: a ``.tmp`` is only ever a copy that never got its rename."""
        for name in (KEYSTORE_FILE, SEED_FILE, *_COMMIT_MARKERS, *(path.name for path in self._companions)):
            for tmp in (self._dir / (name + _TMP_SUFFIX), self._dir / (name + STAGED_SUFFIX + _TMP_SUFFIX)):
                if tmp.exists():
                    os.unlink(tmp)

    def _tidy(self) -> None:
        """Finish a committed save or discard an uncommitted one, and drop temporaries; StorageError if refused."""
        try:
            committed = self._committed()
            if committed is None:
                self._discard_staged()
            else:
                self._roll_forward(committed)
            self._remove_temporaries()
        except OSError as e:
            raise StorageError(describe_write_error(self._dir, e)) from e

    def _tidy_best_effort(self) -> None:
        try:
            self._tidy()
        except StorageError as e:
            # Reading does not need it: _current() reads an interrupted save as it stands.
            log.warning("could not tidy the wallet folder after an interrupted save: %s", e.user_message)

    def _set_aside(self, seed_path: Path) -> None:
        """Rename a phrase file that belongs to no stored wallet, so no later save deletes it."""
        aside = seed_path.with_name(SEED_FILE + UNMATCHED_SUFFIX)
        try:
            os.replace(seed_path, aside)
        except OSError:
            log.warning("could not move the unmatched recovery-phrase file aside")

    def _sync_dir(self) -> None:
        """Make the folder's renames durable in order (POSIX); some filesystems refuse it, which is no error."""
        if os.name != "posix":
            return
        with contextlib.suppress(OSError):
            fd = os.open(self._dir, os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)

    def delete(self) -> None:
        """Remove the wallet: the commit markers first (so nothing is read as a pending save), then every file."""
        paths = [self._dir / name for name in _COMMIT_MARKERS]
        paths += [_staged(path) for path in self._companions]
        paths += [_staged(self.keystore_path), _staged(self.seed_path), self.keystore_path, self.seed_path,
                  self._dir / (SEED_FILE + UNMATCHED_SUFFIX)]
        try:
            for path in paths:
                path.unlink(missing_ok=True)
            self._remove_temporaries()
        except OSError as e:
            raise StorageError(describe_write_error(self._dir, e)) from e


def _staged(final: Path) -> Path:
    return final.with_name(final.name + STAGED_SUFFIX)


def _first_file(*candidates: Path) -> Path | None:
    return next((path for path in candidates if path.is_file()), None)
