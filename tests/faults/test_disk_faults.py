"""A full disk or a read-only data folder: a clear StorageError naming the condition, the path and the fix; a
database that is not corrupt; private files (keystore, ``.cookie``, ``proxy.conf``) either replaced whole or left
as they were, with no partial file behind.

Runs unprivileged: a full disk is a file-size limit (RLIMIT_FSIZE) on a child process, a read-only folder is
``chmod``. Root ignores file modes, so as root the read-only folder is a tmpfs remounted read-only (and a full
2 MiB tmpfs is added as a second full disk). When no method is available the tests fail under ``CI=true``.
"""

from __future__ import annotations

import base64
import contextlib
import errno
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from app.errors import StorageError
from app.router.api.auth import ADMIN, AuthConfig
from app.storage.store import AsyncStorage
from app.wallet.filestore import KEYSTORE_FILE, EncryptedFileStore
from app.wallet.secret import WalletSecret
from tests.faults import disk_full_child
from tests.faults.disk_full_child import BIG
from tests.wallet.vectors import FAST_SCRYPT

ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
DISK_BYTES = 2 * 1024 * 1024
PRIVATE_FILE_LIMIT = 16  # bytes: smaller than a keystore, a proxy.conf or a .cookie
MOUNT = shutil.which("mount") or "/bin/mount"
UMOUNT = shutil.which("umount") or "/bin/umount"
PROJECT = Path(__file__).resolve().parents[2]
FILLER = "filler"
# anvil's public dev key #8: a throwaway key, never used outside local chains
OLD_KEY = "0xdbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97"
OLD_PASSWORD = "old-app-password"


def unavailable(reason: str) -> None:
    """Skip locally, but fail on CI: a fault test that silently does not run must not let CI pass."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"this disk fault cannot be made on this CI machine: {reason}")
    pytest.skip(reason)


def _mount(*args: str) -> None:
    subprocess.run([MOUNT, *args], check=True, capture_output=True)


@contextlib.contextmanager
def small_tmpfs(folder: Path) -> Iterator[Path]:
    """A real 2 MiB filesystem mounted on ``folder`` (root only); unmounted lazily on exit."""
    try:
        _mount("-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(folder))
    except (OSError, subprocess.CalledProcessError) as e:
        unavailable(f"cannot mount a small tmpfs here: {e}")
    try:
        yield folder
    finally:
        # Lazy: detach now even if a closed-but-not-yet-released handle lingers, so pytest can clean tmp_path.
        subprocess.run([UMOUNT, "-l", str(folder)], check=True, capture_output=True)


def _write_forever(fd: int) -> None:
    while True:
        os.write(fd, b"\0" * 65536)


@dataclass
class FullDisk:
    """A folder whose writes run out of space, and a way to run an operation there in a child process."""

    folder: Path
    file_size_limit: bool  # True: the child may not grow a file past a limit; False: a small tmpfs

    def fill(self) -> None:
        """Use up the space left on a tmpfs, so the next write meets ENOSPC (a file-size limit needs nothing)."""
        if self.file_size_limit:
            return
        fd = os.open(self.folder / FILLER, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            with pytest.raises(OSError, match=os.strerror(errno.ENOSPC)):
                _write_forever(fd)
        finally:
            os.close(fd)

    def run(self, operation: str, limit: int) -> dict[str, Any]:
        """Run ``operation`` of disk_full_child on the folder; with a file-size limit, files stop at ``limit``."""
        args = [sys.executable, "-m", "tests.faults.disk_full_child", operation, str(self.folder)]
        if self.file_size_limit:
            args.append(str(limit))
        env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "PYTHONPATH": str(PROJECT)}
        done = subprocess.run(args, cwd=PROJECT, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, done.stderr  # a raw traceback in the child is a failure, not a clear error
        result: dict[str, Any] = json.loads(done.stdout)
        return result


@pytest.fixture(params=["file-size limit", "small tmpfs"])
def full_disk(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[FullDisk]:
    folder = tmp_path / "disk"
    folder.mkdir()
    if request.param == "file-size limit":
        if not disk_full_child.CAN_LIMIT_FILE_SIZE:
            unavailable("this platform has no RLIMIT_FSIZE")
        yield FullDisk(folder, file_size_limit=True)
    elif not ROOT:
        pytest.skip("a tmpfs needs root; the file-size limit above makes the same fault unprivileged")
    else:
        with small_tmpfs(folder):
            yield FullDisk(folder, file_size_limit=False)


@dataclass
class ReadOnlyDisk:
    """A data folder that can be made read-only and writable again."""

    folder: Path
    read_only: Callable[[], None]
    writable: Callable[[], None]


def _chmod_folders(folder: Path, mode: int) -> None:
    for path in [folder, *(p for p in folder.rglob("*") if p.is_dir())]:
        path.chmod(mode)


@pytest.fixture
def read_only_disk(tmp_path: Path) -> Iterator[ReadOnlyDisk]:
    """chmod for an ordinary user; root writes through file modes, so root remounts a tmpfs read-only."""
    folder = tmp_path / "disk"
    folder.mkdir()
    if not ROOT:
        try:
            yield ReadOnlyDisk(folder, lambda: _chmod_folders(folder, 0o555), lambda: _chmod_folders(folder, 0o755))
        finally:
            _chmod_folders(folder, 0o755)  # so pytest can delete it
        return
    with small_tmpfs(folder):
        yield ReadOnlyDisk(folder, lambda: _mount("-o", "remount,ro", str(folder)),
                           lambda: _mount("-o", "remount,rw", str(folder)))


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


def files_in(folder: Path) -> dict[str, bytes]:
    """Every file in ``folder`` (but the tmpfs filler) with its bytes: a partial or .tmp file shows up here."""
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and p.name != FILLER}


async def _open_and_write(path: Path, chat_id: str) -> None:
    """Open (may already fail) and write one message (must fail if opening did not)."""
    storage = await AsyncStorage.open(path)
    try:
        await storage.run(storage.sync.chats.add_message, chat_id, "user", "refused")
    finally:
        await storage.close()


async def test_full_disk_is_a_clear_error_and_every_committed_message_survives(full_disk: FullDisk) -> None:
    database = full_disk.folder / "node.sqlite3"

    result = full_disk.run("fill-database", DISK_BYTES)

    error, committed = result["error"], result["committed"]
    assert error is not None, "the disk never filled"
    assert "free some disk space" in error.lower() and str(database) in error, error
    assert 0 < len(committed) < 1000
    assert _integrity(database) == "ok"
    reopened = await AsyncStorage.open(database)
    try:
        messages = await reopened.run(reopened.sync.chats.messages, result["chat"])
    finally:
        await reopened.close()
    assert [m.content.split(":")[0] for m in messages] == [str(n) for n in committed]
    assert all(m.content.endswith(BIG) for m in messages)  # none half-written


async def test_read_only_data_folder_refuses_writes_clearly_and_keeps_the_data(read_only_disk: ReadOnlyDisk) -> None:
    database = read_only_disk.folder / "node.sqlite3"
    storage = await AsyncStorage.open(database)
    chat = await storage.run(storage.sync.chats.create_chat, "kept", "0x" + "00" * 32)
    await storage.run(storage.sync.chats.add_message, chat.id, "user", "before read-only")
    await storage.close()
    read_only_disk.read_only()

    with pytest.raises(StorageError) as caught:
        await _open_and_write(database, chat.id)

    message = caught.value.user_message
    assert "read-only" in message and str(database) in message, message
    read_only_disk.writable()
    assert _integrity(database) == "ok"
    storage = await AsyncStorage.open(database)
    try:
        assert [m.content for m in await storage.run(storage.sync.chats.messages, chat.id)] == ["before read-only"]
    finally:
        await storage.close()


async def test_a_fresh_data_folder_on_a_read_only_disk_is_a_clear_error(read_only_disk: ReadOnlyDisk) -> None:
    read_only_disk.read_only()

    with pytest.raises(StorageError) as caught:
        await AsyncStorage.open(read_only_disk.folder / "data" / "node.sqlite3")

    assert "Cannot create the data folder" in caught.value.user_message
    assert "MOR_DATA_DIR" in caught.value.user_message  # names the fix


def store_old_wallet(folder: Path) -> None:
    EncryptedFileStore(folder, FAST_SCRYPT).save(WalletSecret.from_private_key(OLD_KEY), OLD_PASSWORD)


def old_wallet_still_opens(folder: Path) -> None:
    secret = EncryptedFileStore(folder, FAST_SCRYPT).load(OLD_PASSWORD)
    assert secret is not None and "0x" + secret.derive_key().hex() == OLD_KEY


def create_auth_files(folder: Path) -> None:
    AuthConfig.load(folder / ".cookie", folder / "proxy.conf")


def old_admin_password_still_works(folder: Path) -> None:
    auth = AuthConfig.load(folder / ".cookie", folder / "proxy.conf")
    token = base64.b64encode(f"{ADMIN}:{auth.admin_password}".encode()).decode()
    assert auth.authenticate(f"Basic {token}") == ADMIN


def nothing(folder: Path) -> None:
    """No files before, and none are checked after (``files_in`` already says none were left)."""


@dataclass(frozen=True)
class PrivateWrite:
    """A real caller of write_private_file: the files it starts from, the file whose write fails, a usability check."""

    operation: str  # a disk_full_child operation
    refused: str  # the file named in the error
    before: Callable[[Path], None]
    still_usable: Callable[[Path], None]


PRIVATE_WRITES = [
    PrivateWrite("save-keystore", KEYSTORE_FILE, store_old_wallet, old_wallet_still_opens),
    PrivateWrite("change-admin-password", "proxy.conf", create_auth_files, old_admin_password_still_works),
    PrivateWrite("create-cookie", ".cookie", nothing, nothing),
]
IN_PROCESS = {"save-keystore": disk_full_child.save_keystore,
              "change-admin-password": disk_full_child.change_admin_password,
              "create-cookie": disk_full_child.create_cookie}


@pytest.mark.parametrize("write", PRIVATE_WRITES, ids=lambda w: w.operation)
def test_private_file_on_a_full_disk_is_a_clear_error_and_the_old_file_stays_whole(
    full_disk: FullDisk, write: PrivateWrite
) -> None:
    write.before(full_disk.folder)
    before = files_in(full_disk.folder)
    full_disk.fill()

    error = full_disk.run(write.operation, PRIVATE_FILE_LIMIT)["error"]

    assert error is not None, "the write did not fail"
    assert "disk is full" in error and "free some disk space" in error.lower(), error
    assert str(full_disk.folder / write.refused) in error, error
    assert files_in(full_disk.folder) == before  # the previous files untouched, no partial or .tmp file
    write.still_usable(full_disk.folder)


@pytest.mark.parametrize("write", PRIVATE_WRITES, ids=lambda w: w.operation)
def test_private_file_in_a_read_only_folder_is_a_clear_error_and_the_old_file_stays_whole(
    read_only_disk: ReadOnlyDisk, write: PrivateWrite
) -> None:
    write.before(read_only_disk.folder)
    before = files_in(read_only_disk.folder)
    read_only_disk.read_only()

    with pytest.raises(StorageError) as caught:
        IN_PROCESS[write.operation](read_only_disk.folder)

    read_only_disk.writable()
    message = caught.value.user_message
    assert "read-only" in message and str(read_only_disk.folder / write.refused) in message, message
    assert "MOR_DATA_DIR" in message  # names a fix
    assert files_in(read_only_disk.folder) == before
    write.still_usable(read_only_disk.folder)
