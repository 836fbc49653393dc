"""A wallet save is all-or-nothing across the keystore, the recovery-phrase file and the app-password verifier:
whatever step a crash or a full disk interrupts, unlocking yields the old wallet (and password) or the new one, and
the next load tidies the leftovers."""

from __future__ import annotations

import contextlib
import errno
import importlib.util
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from keyring.backends import fail

from app.errors import StorageError, WalletError
from app.wallet.filestore import KEYSTORE_FILE, SEED_FILE, UNMATCHED_SUFFIX, EncryptedFileStore
from app.wallet.keystore import ScryptParams
from app.wallet.manager import LockState, WalletManager
from app.wallet.secret import SecretKind, WalletSecret
from tests.wallet import wallet_save_child
from tests.wallet.vectors import APP_PASSWORD, DEV_MNEMONIC

CAN_LIMIT_FILE_SIZE = importlib.util.find_spec("resource") is not None  # POSIX
PROJECT = Path(__file__).resolve().parents[2]
NEW_PASSWORD = "another app password"
# Throwaway wallets: anvil's public dev phrase at other indices, and anvil's public dev keys #8 and #9.
PHRASE_A = WalletSecret.from_mnemonic(DEV_MNEMONIC, "3")
PHRASE_B = WalletSecret.from_mnemonic(DEV_MNEMONIC, "4")
KEY_A = WalletSecret.from_private_key("0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97")
KEY_B = WalletSecret.from_private_key("0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6")


def fingerprint(secret: WalletSecret) -> tuple[object, ...]:
    """Tells the test wallets apart without deriving keys (slow for phrases; load() already checks the key)."""
    return (secret.kind, secret.private_key, secret.mnemonic, secret.path, secret.passphrase)


NAMES = {fingerprint(secret): name for name, secret in
         [("phrase A", PHRASE_A), ("phrase B", PHRASE_B), ("key A", KEY_A), ("key B", KEY_B)]}
# These tests save hundreds of times: the cheapest scrypt keeps them fast; files and code path are the same.
SCRYPT = ScryptParams(n=16)


class Crash(BaseException):
    """The process dies here: no except or cleanup code of the save runs after it (finally blocks aside)."""


Identity = tuple[str, SecretKind, str]
"""What unlocking yields: (which test wallet, its kind, the password that opened it)."""


def identity(secret: WalletSecret | None, password: str) -> Identity | None:
    return None if secret is None else (NAMES[fingerprint(secret)], secret.kind, password)


@dataclass(frozen=True)
class Transition:
    """A save of ``new`` over ``old`` (None: no wallet stored yet)."""

    name: str
    old: WalletSecret | None
    old_password: str
    new: WalletSecret
    new_password: str


TRANSITIONS = [
    Transition("first-phrase", None, APP_PASSWORD, PHRASE_B, APP_PASSWORD),
    Transition("first-key", None, APP_PASSWORD, KEY_B, APP_PASSWORD),
    Transition("phrase-to-phrase", PHRASE_A, APP_PASSWORD, PHRASE_B, APP_PASSWORD),
    Transition("phrase-to-key", PHRASE_A, APP_PASSWORD, KEY_B, APP_PASSWORD),
    Transition("key-to-phrase", KEY_A, APP_PASSWORD, PHRASE_B, APP_PASSWORD),
    Transition("key-to-key", KEY_A, APP_PASSWORD, KEY_B, APP_PASSWORD),
    Transition("phrase-new-password", PHRASE_A, APP_PASSWORD, PHRASE_A, NEW_PASSWORD),
    Transition("key-new-password", KEY_A, APP_PASSWORD, KEY_A, NEW_PASSWORD),
]


def _in(folder: Path, path: Any) -> bool:
    if isinstance(path, int):
        return False
    target = Path(os.fsdecode(path))
    return target == folder or target.parent == folder


@contextlib.contextmanager
def faulty_disk(folder: Path, fail_at: int | None = None, mode: str = "error") -> Iterator[list[str]]:
    """Log every file-system change in ``folder`` (open, write, fsync, replace, rename, unlink) and break one.

    ``fail_at`` (1-based) picks the operation that fails: "error" makes it raise ENOSPC (later ones work),
    "stays-full" makes it and every later one raise ENOSPC, "crash" raises :class:`Crash`.
    """
    log: list[str] = []
    fds: set[int] = set()
    real_open, real_write, real_fsync, real_close = os.open, os.write, os.fsync, os.close
    real_replace, real_rename, real_unlink = os.replace, os.rename, os.unlink

    def step(what: str) -> None:
        log.append(what)
        if fail_at is not None and (len(log) == fail_at or (mode == "stays-full" and len(log) > fail_at)):
            if mode == "crash":
                raise Crash(what)
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def open_(path: Any, flags: int, mode: int = 0o777, **kw: Any) -> int:
        inside = _in(folder, path)
        if inside:
            step(f"open {Path(path).name}")
        fd = real_open(path, flags, mode, **kw)
        if inside:
            fds.add(fd)
        return fd

    def write(fd: int, data: Any) -> int:
        if fd in fds:
            step("write")
        return real_write(fd, data)

    def fsync(fd: Any) -> None:
        if fd in fds:
            step("fsync")
        real_fsync(fd)

    def close(fd: int) -> None:
        fds.discard(fd)
        real_close(fd)

    def moved(real: Any, verb: str) -> Any:
        def move(src: Any, dst: Any, **kw: Any) -> None:
            if _in(folder, src):
                step(f"{verb} {Path(src).name} -> {Path(dst).name}")
            real(src, dst, **kw)
        return move

    def unlink(path: Any, **kw: Any) -> None:
        if _in(folder, path):
            step(f"unlink {Path(path).name}")
        real_unlink(path, **kw)

    with pytest.MonkeyPatch.context() as patch:
        for name, fake in [("open", open_), ("write", write), ("fsync", fsync), ("close", close),
                           ("replace", moved(real_replace, "replace")), ("rename", moved(real_rename, "rename")),
                           ("unlink", unlink)]:
            patch.setattr(os, name, fake)
        yield log


def stored(folder: Path, passwords: list[str]) -> Identity | None:
    """What unlocking the folder yields, trying each password; any other error fails the test."""
    store = EncryptedFileStore(folder, SCRYPT)
    for password in passwords:
        try:
            secret = store.load(password)
        except WalletError as e:
            if e.user_message.startswith("Wrong password"):
                continue
            raise
        return identity(secret, password)
    pytest.fail("no password opens the stored wallet")


def wallet_files(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def files_of(identity: Identity | None) -> set[str]:
    if identity is None:
        return set()
    return {KEYSTORE_FILE, SEED_FILE} if identity[1] is SecretKind.MNEMONIC else {KEYSTORE_FILE}


def start_from(folder: Path, transition: Transition) -> None:
    folder.mkdir()
    if transition.old is not None:
        EncryptedFileStore(folder, SCRYPT).save(transition.old, transition.old_password)


def save_steps(tmp_path: Path, transition: Transition) -> list[str]:
    """The file-system operations of an uninterrupted save."""
    folder = tmp_path / "uninterrupted"
    start_from(folder, transition)
    with faulty_disk(folder) as log:
        EncryptedFileStore(folder, SCRYPT).save(transition.new, transition.new_password)
    return log


@pytest.mark.parametrize("mode", ["error", "stays-full", "crash"])
@pytest.mark.parametrize("transition", TRANSITIONS, ids=lambda t: t.name)
def test_a_save_interrupted_at_any_step_unlocks_as_the_old_or_the_new_wallet_and_leaves_no_leftovers(
    tmp_path: Path, transition: Transition, mode: str
) -> None:
    old = identity(transition.old, transition.old_password)
    new = identity(transition.new, transition.new_password)
    passwords = list(dict.fromkeys([transition.new_password, transition.old_password]))
    steps = save_steps(tmp_path, transition)
    assert len(steps) > 10, steps

    start_from(tmp_path / "old", transition)
    for fail_at in range(1, len(steps) + 1):
        folder = tmp_path / f"fail-at-{fail_at}"
        shutil.copytree(tmp_path / "old", folder)
        outcome: list[Identity | None] = [old, new]
        refusal = ""
        with faulty_disk(folder, fail_at, mode):
            try:
                EncryptedFileStore(folder, SCRYPT).save(transition.new, transition.new_password)
                outcome = [new]  # a save that returned is stored, whatever tidying it could not finish
            except StorageError as e:
                outcome, refusal = [old], e.user_message  # a save that said it failed changed nothing
            except Crash:
                pass
            assert outcome != [old] or "disk is full" in refusal, refusal
            if mode == "stays-full":  # unlocking works before any space is freed
                assert stored(folder, passwords) in outcome, (fail_at, steps[fail_at - 1])

        seen = stored(folder, passwords)
        assert seen in outcome, (fail_at, steps[fail_at - 1])
        assert wallet_files(folder) == files_of(seen), (fail_at, steps[fail_at - 1])  # the load tidied up
        assert stored(folder, passwords) == seen  # and tidying changed nothing the next unlock sees


def test_the_old_phrase_file_goes_only_after_the_new_keystore_is_in_place(tmp_path: Path) -> None:
    steps = save_steps(tmp_path, Transition("phrase-to-key", PHRASE_A, APP_PASSWORD, KEY_B, APP_PASSWORD))

    in_place = steps.index(f"replace {KEYSTORE_FILE}.new -> {KEYSTORE_FILE}")
    assert steps.index(f"unlink {SEED_FILE}") > in_place


def test_a_save_leaves_only_a_standard_v3_keystore_and_the_sealed_phrase(tmp_path: Path) -> None:
    EncryptedFileStore(tmp_path, SCRYPT).save(PHRASE_A, APP_PASSWORD)

    assert wallet_files(tmp_path) == {KEYSTORE_FILE, SEED_FILE}
    keystore = json.loads((tmp_path / KEYSTORE_FILE).read_text())
    assert keystore["version"] == 3 and keystore["crypto"]["kdf"] == "scrypt"
    assert bytes(Account.decrypt(keystore, APP_PASSWORD)) == PHRASE_A.derive_key()  # geth/eth-account read it


def test_a_phrase_file_left_by_an_older_version_for_another_wallet_is_set_aside_and_the_keystore_opens(
    tmp_path: Path,
) -> None:
    # An older version wrote the new phrase file, then failed to write the new keystore.
    EncryptedFileStore(tmp_path, SCRYPT).save(KEY_A, APP_PASSWORD)
    elsewhere = tmp_path / "elsewhere"
    EncryptedFileStore(elsewhere, SCRYPT).save(PHRASE_B, APP_PASSWORD)
    orphan = (elsewhere / SEED_FILE).read_bytes()
    (tmp_path / SEED_FILE).write_bytes(orphan)

    secret = EncryptedFileStore(tmp_path, SCRYPT).load(APP_PASSWORD)

    assert secret is not None and secret.address() == KEY_A.address() and secret.kind is SecretKind.PRIVATE_KEY
    assert not (tmp_path / SEED_FILE).exists()
    assert (tmp_path / (SEED_FILE + UNMATCHED_SUFFIX)).read_bytes() == orphan  # never deleted


def test_delete_removes_an_interrupted_save_too(tmp_path: Path) -> None:
    folder = tmp_path / "wallet"
    transition = Transition("phrase-to-key", PHRASE_A, APP_PASSWORD, KEY_B, APP_PASSWORD)
    start_from(folder, transition)
    crash_after_commit = save_steps(tmp_path, transition).index(f"replace {KEYSTORE_FILE}.new -> {KEYSTORE_FILE}")
    with faulty_disk(folder, crash_after_commit + 1, "crash"), contextlib.suppress(Crash):
        EncryptedFileStore(folder, SCRYPT).save(KEY_B, APP_PASSWORD)
    assert len(wallet_files(folder)) > 2  # staged keystore and marker beside the old pair

    EncryptedFileStore(folder, SCRYPT).delete()

    assert wallet_files(folder) == set()
    assert not EncryptedFileStore(folder, SCRYPT).exists()


def run_child(folder: Path, full_before: int) -> str | None:
    args = [sys.executable, "-m", "tests.wallet.wallet_save_child", str(folder), str(full_before)]
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(PROJECT)}
    done = subprocess.run(args, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr  # a raw traceback is a failure, not a clear error
    error: str | None = json.loads(done.stdout)["error"]
    return error


@pytest.mark.skipif(not CAN_LIMIT_FILE_SIZE, reason="this platform has no RLIMIT_FSIZE")
@pytest.mark.parametrize(("full_before", "refused"), [(1, SEED_FILE), (2, KEYSTORE_FILE), (3, None)],
                         ids=["phrase-file", "keystore-after-the-phrase-file", "commit-marker"])
def test_a_disk_that_fills_mid_save_keeps_the_old_wallet_whole(
    tmp_path: Path, full_before: int, refused: str | None
) -> None:
    EncryptedFileStore(tmp_path, SCRYPT).save(PHRASE_A, APP_PASSWORD)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}

    error = run_child(tmp_path, full_before)

    secret = EncryptedFileStore(tmp_path, SCRYPT).load(APP_PASSWORD)
    assert secret is not None
    if refused is None:  # the empty commit marker still fits: the new wallet is stored whole
        assert error is None
        assert secret.address() == wallet_save_child.NEW_WALLET.address()
        assert wallet_files(tmp_path) == {KEYSTORE_FILE, SEED_FILE}
        return
    assert error is not None and "disk is full" in error and str(tmp_path / refused) in error, error
    assert secret.address() == PHRASE_A.address() and secret.kind is SecretKind.MNEMONIC
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # nothing partial or staged left


async def unlock_either(data_dir: Path, passwords: list[str]) -> tuple[str, str]:
    """(address, password) that a freshly started manager unlocks with; "Wrong password" for both fails."""
    for password in passwords:
        manager = WalletManager(data_dir, keyring_backend=fail.Keyring(), scrypt=SCRYPT, environ={})
        assert await manager.refresh() is LockState.LOCKED
        try:
            return await manager.unlock(password), password
        except WalletError as e:
            if not e.user_message.startswith("Wrong password"):
                raise
    pytest.fail("neither the old nor the new app password unlocks the wallet")


@pytest.mark.parametrize("mode", ["error", "crash"])
async def test_an_interrupted_password_change_unlocks_with_the_old_or_the_new_password(
    tmp_path: Path, mode: str
) -> None:
    def manager_at(data_dir: Path) -> WalletManager:
        return WalletManager(data_dir, keyring_backend=fail.Keyring(), scrypt=SCRYPT, environ={})

    template = tmp_path / "template"
    await manager_at(template).setup(APP_PASSWORD, PHRASE_A)
    fail_at, finished = 0, False
    while not finished:
        fail_at += 1
        data_dir = tmp_path / f"fail-at-{fail_at}"
        shutil.copytree(template, data_dir)
        manager = manager_at(data_dir)
        await manager.refresh()
        expected = [APP_PASSWORD, NEW_PASSWORD]
        with faulty_disk(data_dir / "wallet", fail_at, mode) as steps:
            try:
                await manager.change_password(APP_PASSWORD, NEW_PASSWORD, NEW_PASSWORD)
                expected, finished = [NEW_PASSWORD], len(steps) < fail_at  # no step left to fail: done
            except StorageError:
                expected = [APP_PASSWORD]
            except Crash:
                pass

        address, password = await unlock_either(data_dir, [APP_PASSWORD, NEW_PASSWORD])
        assert address == PHRASE_A.address() and password in expected, (fail_at, steps)
    assert fail_at > 10
