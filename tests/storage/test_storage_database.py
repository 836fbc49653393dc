"""The database file: WAL, schema versions and migrations, crash safety, and clear errors on a bad disk."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from app.errors import StorageError
from app.storage import Storage
from app.storage.database import Database
from app.storage.schema import CURRENT_VERSION

MODEL = "0x" + "ab" * 32


def test_new_database_is_in_wal_mode_at_the_default_path(isolated_data_dir: Path) -> None:
    store = Storage()
    assert store.path == isolated_data_dir / "node.sqlite3"
    with store.db.read() as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert store.db.schema_version() == CURRENT_VERSION
    store.close()


def test_v1_database_migrates_to_current_without_losing_rows(tmp_path: Path) -> None:
    path = tmp_path / "old.sqlite3"
    old = Database(path, target_version=1)
    assert old.schema_version() == 1
    with old.write() as conn:
        conn.execute(
            "INSERT INTO chats (id, title, model_id, created, updated) VALUES (?, 'Old chat', ?, 1000, 2000)",
            ("0x" + "01" * 32, MODEL),
        )
        conn.execute(
            "INSERT INTO messages (chat_id, position, role, content, created) VALUES (?, 0, 'user', ?, 1500)",
            ("0x" + "01" * 32, "remember the zeppelin"),
        )
        conn.execute("INSERT INTO settings (key, value) VALUES ('theme', 'dark')")
    old.close()

    store = Storage(path)
    assert store.db.schema_version() == CURRENT_VERSION
    chat = store.chats.get_chat("0x" + "01" * 32)
    assert chat is not None
    assert chat.title == "Old chat"
    [message] = store.chats.messages(chat.id)
    assert (message.content, message.updated) == ("remember the zeppelin", 1500)
    assert store.settings.get("theme") == "dark"
    # The search index added in v2 covers rows written before it existed.
    assert [h.message_id for h in store.chats.search("zeppelin")] == [message.id]
    store.close()


def test_database_from_a_newer_app_is_refused_with_advice(tmp_path: Path) -> None:
    path = tmp_path / "new.sqlite3"
    Storage(path).close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE schema_version SET version = ?", (CURRENT_VERSION + 1,))
    conn.commit()
    conn.close()
    with pytest.raises(StorageError, match="newer version of the app"):
        Storage(path)


def test_streamed_text_survives_a_crash_mid_answer(tmp_path: Path) -> None:
    path = tmp_path / "crash.sqlite3"
    script = textwrap.dedent(f"""
        import os
        from pathlib import Path
        from app.storage import Storage
        store = Storage(Path({str(path)!r}))
        chat = store.chats.create_chat("crash", {MODEL!r})
        store.chats.add_message(chat.id, "user", "tell me a story")
        answer = store.chats.add_message(chat.id, "assistant", "")
        for word in ["Once ", "upon ", "a "]:
            store.chats.append_to_message(answer.id, word)
        os._exit(17)  # die without closing anything, like a crash
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=Path(__file__).parents[2], timeout=60,
                            capture_output=True, text=True)
    assert result.returncode == 17, result.stderr
    store = Storage(path)
    [chat] = store.chats.list_chats()
    assert [m.content for m in store.chats.messages(chat.id)] == ["tell me a story", "Once upon a "]
    store.close()


def test_full_disk_raises_storage_error_and_keeps_earlier_rows(tmp_path: Path) -> None:
    store = Storage(tmp_path / "full.sqlite3")
    chat = store.chats.create_chat("kept", MODEL)
    kept = store.chats.add_message(chat.id, "user", "short")
    with store.db.read() as conn:
        pages = conn.execute("PRAGMA page_count").fetchone()[0]
        # A page cap is SQLite's own "database or disk is full" path, the same error a full disk gives.
        conn.execute(f"PRAGMA max_page_count = {pages + 2}")
    with pytest.raises(StorageError, match="full: free some disk space"):
        store.chats.add_message(chat.id, "assistant", "x" * 200_000)
    assert [m.id for m in store.chats.messages(chat.id)] == [kept.id]
    with store.db.read() as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    store.close()


def test_read_only_database_raises_storage_error_naming_the_fix(tmp_path: Path) -> None:
    store = Storage(tmp_path / "ro.sqlite3")
    chat = store.chats.create_chat("before", MODEL)
    with store.db.read() as conn:
        conn.execute("PRAGMA query_only = 1")  # the same SQLITE_READONLY error a read-only file gives
    with pytest.raises(StorageError, match="read-only: make its folder writable"):
        store.chats.add_message(chat.id, "user", "hello")
    assert store.chats.get_chat(chat.id) is not None
    store.close()


def test_unusable_data_folder_raises_storage_error(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the data folder should be")
    with pytest.raises(StorageError, match="Cannot create the data folder"):
        Storage(blocker / "node.sqlite3")


def test_file_that_is_not_a_database_raises_storage_error(tmp_path: Path) -> None:
    path = tmp_path / "junk.sqlite3"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match="damaged or not a database"):
        Storage(path)


def test_data_dir_that_cannot_be_created_raises_storage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("MOR_DATA_DIR", str(blocker / "data"))
    with pytest.raises(StorageError, match="set MOR_DATA_DIR to a writable folder"):
        Storage()
