"""The SQLite connection: WAL mode, one lock, commit-per-write, and SQLite errors turned into StorageError."""

from __future__ import annotations

import contextlib
import os
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

from app.errors import StorageError
from app.storage.schema import apply_migrations

DB_FILE_NAME = "node.sqlite3"


def describe_sqlite_error(error: sqlite3.Error, path: Path) -> str:
    """A sentence for the user naming what went wrong with the database at ``path`` and how to fix it."""
    text = str(error).lower()
    if "full" in text:
        return f"The disk holding the database {path} is full: free some disk space, then retry."
    if "readonly" in text or "read-only" in text:
        return f"The database {path} is read-only: make its folder writable by this user, then restart."
    if "disk i/o error" in text:
        # SQLite reports a write refused by a file-size limit (EFBIG) or a failing disk this way, not as "full".
        return (f"The database {path} could not be written (disk I/O error): the disk may be full, over a size "
                "limit or failing. Free some disk space and check the disk, then retry.")
    if "unable to open" in text:
        if _folder_is_read_only(path.parent):
            # SQLite cannot create its -wal/-shm files next to the database and only says "unable to open".
            return (f"The database {path} is read-only: its folder (or disk) cannot be written. Make it writable "
                    "or choose another data folder (MOR_DATA_DIR), then restart.")
        return f"Cannot open the database {path}: check that the folder exists and is writable."
    if "locked" in text or "busy" in text:
        return f"The database {path} is locked by another program: close the other copy of the app and retry."
    if "malformed" in text or "not a database" in text:
        return f"The database {path} is damaged or not a database: move it aside; a new one will be created."
    return f"The database {path} failed: {error}."


def _folder_is_read_only(folder: Path) -> bool:
    """Whether ``folder`` exists but this process may not create files in it (read-only mount or permissions)."""
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return True
    except (OSError, AttributeError):  # no statvfs on Windows; a missing folder is not "read-only"
        pass
    return folder.is_dir() and not os.access(folder, os.W_OK)


class Database:
    """One sqlite3 connection shared by all repositories; every write commits before it returns.

    The connection is guarded by a lock so the async facade's worker thread and synchronous callers (tests,
    start-up code) never interleave statements.
    """

    def __init__(self, path: Path, *, target_version: int | None = None) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StorageError(f"Cannot create the data folder {path.parent}: {e.strerror}. "
                               "Choose a writable folder (MOR_DATA_DIR).") from e
        self._lock = threading.RLock()
        try:
            # isolation_level=None: we issue BEGIN/COMMIT ourselves, so nothing stays uncommitted by accident.
            self._conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=5.0)
            self._conn.row_factory = sqlite3.Row
            self._conn.execute("PRAGMA journal_mode=WAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            # NORMAL is durable across application crashes in WAL mode; only a power cut may lose the last commit.
            self._conn.execute("PRAGMA synchronous=NORMAL")
            with self.write() as conn:
                apply_migrations(conn, target_version)
        except sqlite3.Error as e:
            self._close_quietly()
            raise StorageError(describe_sqlite_error(e, path)) from e
        except StorageError:
            self._close_quietly()
            raise

    def _close_quietly(self) -> None:
        if hasattr(self, "_conn"):
            with contextlib.suppress(sqlite3.Error):
                self._conn.close()

    @contextlib.contextmanager
    def write(self) -> Iterator[sqlite3.Connection]:
        """A transaction committed on exit and rolled back on any error (SQLite errors become StorageError)."""
        with self._lock:
            try:
                self._conn.execute("BEGIN IMMEDIATE")
            except sqlite3.Error as e:
                raise StorageError(describe_sqlite_error(e, self.path)) from e
            try:
                yield self._conn
                self._conn.execute("COMMIT")
            except BaseException as e:
                with contextlib.suppress(sqlite3.Error):
                    self._conn.execute("ROLLBACK")
                if isinstance(e, sqlite3.Error):
                    raise StorageError(describe_sqlite_error(e, self.path)) from e
                raise

    @contextlib.contextmanager
    def read(self) -> Iterator[sqlite3.Connection]:
        """The connection for reads, under the lock; SQLite errors become StorageError."""
        with self._lock:
            try:
                yield self._conn
            except sqlite3.Error as e:
                raise StorageError(describe_sqlite_error(e, self.path)) from e

    def schema_version(self) -> int:
        """The schema version stamped in the database."""
        with self.read() as conn:
            row = conn.execute("SELECT version FROM schema_version").fetchone()
            return int(row[0])

    def has_table(self, name: str) -> bool:
        """Whether a table (or virtual table) called ``name`` exists."""
        with self.read() as conn:
            row = conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (name,)).fetchone()
            return row is not None

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            self._conn.close()
