"""A full disk or a read-only data folder: a clear StorageError naming the fix, and a database that is not corrupt."""

from __future__ import annotations

import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.errors import StorageError
from app.storage.store import AsyncStorage

DISK_BYTES = 2 * 1024 * 1024
BIG = "x" * 48 * 1024  # one message: the disk fills after a few dozen


MOUNT = shutil.which("mount") or "/bin/mount"
UMOUNT = shutil.which("umount") or "/bin/umount"


def _mount(*args: str) -> None:
    subprocess.run([MOUNT, *args], check=True, capture_output=True)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A real 2 MiB filesystem (tmpfs) as the data folder; needs root (CI runs as root)."""
    folder = tmp_path / "disk"
    folder.mkdir()
    try:
        _mount("-t", "tmpfs", "-o", f"size={DISK_BYTES}", "tmpfs", str(folder))
    except (OSError, subprocess.CalledProcessError) as e:
        pytest.skip(f"cannot mount a small tmpfs here (needs root): {e}")
    try:
        yield folder
    finally:
        # Lazy: detach now even if a closed-but-not-yet-released handle lingers, so pytest can clean tmp_path.
        subprocess.run([UMOUNT, "-l", str(folder)], check=True, capture_output=True)


def _integrity(path: Path) -> str:
    with sqlite3.connect(path) as conn:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])


async def _fill(storage: AsyncStorage, chat_id: str, committed: list[int]) -> None:
    for n in range(1000):
        await storage.run(storage.sync.chats.add_message, chat_id, "user", f"{n}:{BIG}")
        committed.append(n)


async def _open_and_write(path: Path, chat_id: str) -> None:
    """Open (may already fail) and write one message (must fail if opening did not)."""
    storage = await AsyncStorage.open(path)
    try:
        await storage.run(storage.sync.chats.add_message, chat_id, "user", "refused")
    finally:
        await storage.close()


async def test_full_disk_is_a_clear_error_and_every_committed_message_survives(small_disk: Path) -> None:
    storage = await AsyncStorage.open(small_disk / "node.sqlite3")
    chat = await storage.run(storage.sync.chats.create_chat, "filling", "0x" + "00" * 32)
    committed: list[int] = []
    with pytest.raises(StorageError) as caught:
        await _fill(storage, chat.id, committed)
    await storage.close()

    assert "is full" in caught.value.user_message and "free some disk space" in caught.value.user_message
    assert 0 < len(committed) < 1000
    assert _integrity(small_disk / "node.sqlite3") == "ok"
    reopened = await AsyncStorage.open(small_disk / "node.sqlite3")
    try:
        messages = await reopened.run(reopened.sync.chats.messages, chat.id)
    finally:
        await reopened.close()
    assert [m.content.split(":")[0] for m in messages] == [str(n) for n in committed]
    assert all(m.content.endswith(BIG) for m in messages)  # none half-written


async def test_read_only_data_folder_refuses_writes_clearly_and_keeps_the_data(small_disk: Path) -> None:
    storage = await AsyncStorage.open(small_disk / "node.sqlite3")
    chat = await storage.run(storage.sync.chats.create_chat, "kept", "0x" + "00" * 32)
    await storage.run(storage.sync.chats.add_message, chat.id, "user", "before read-only")
    await storage.close()
    _mount("-o", "remount,ro", str(small_disk))

    with pytest.raises(StorageError) as caught:
        await _open_and_write(small_disk / "node.sqlite3", chat.id)

    message = caught.value.user_message
    assert "read-only" in message or "Cannot open" in message, message
    assert str(small_disk) in message  # says which database
    _mount("-o", "remount,rw", str(small_disk))
    assert _integrity(small_disk / "node.sqlite3") == "ok"
    storage = await AsyncStorage.open(small_disk / "node.sqlite3")
    try:
        assert [m.content for m in await storage.run(storage.sync.chats.messages, chat.id)] == ["before read-only"]
    finally:
        await storage.close()


async def test_a_fresh_data_folder_on_a_read_only_disk_is_a_clear_error(small_disk: Path) -> None:
    _mount("-o", "remount,ro", str(small_disk))

    with pytest.raises(StorageError) as caught:
        await AsyncStorage.open(small_disk / "data" / "node.sqlite3")

    assert "Cannot create the data folder" in caught.value.user_message
    assert "MOR_DATA_DIR" in caught.value.user_message  # names the fix
