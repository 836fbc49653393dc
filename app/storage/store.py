"""The storage entry points: ``Storage`` (synchronous) and ``AsyncStorage`` (runs every call off the loop)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import functools
import logging
from collections.abc import Callable
from pathlib import Path
from typing import ParamSpec, TypeVar

from app.errors import StorageError
from app.paths import data_dir
from app.storage.chats import ChatRepository
from app.storage.database import DB_FILE_NAME, Database
from app.storage.provider_stats import ProviderStatsRepository
from app.storage.receipts import ReceiptRepository
from app.storage.sessions import PendingTransactionRepository, SessionRepository
from app.storage.settings_store import SettingsRepository

log = logging.getLogger(__name__)

P = ParamSpec("P")
T = TypeVar("T")


def default_db_path() -> Path:
    """``<data dir>/node.sqlite3``; StorageError if the data folder cannot be created."""
    try:
        return data_dir() / DB_FILE_NAME
    except OSError as e:
        raise StorageError(f"Cannot create the data folder ({e.strerror}): set MOR_DATA_DIR to a writable "
                           "folder.") from e


class Storage:
    """The node database and its repositories. Every write commits before the call returns."""

    def __init__(self, path: Path | None = None) -> None:
        self.db = Database(path or default_db_path())
        self.chats = ChatRepository(self.db)
        self.receipts = ReceiptRepository(self.db)
        self.sessions = SessionRepository(self.db)
        self.pending_txs = PendingTransactionRepository(self.db)
        # The journal stays small: settled transactions go after 30 days, pending ones are kept until settled.
        pruned = self.pending_txs.prune_settled()
        if pruned:
            log.info("pruned %d settled transaction(s) older than 30 days from the journal", pruned)
        self.provider_stats = ProviderStatsRepository(self.db)
        self.settings = SettingsRepository(self.db)

    @property
    def path(self) -> Path:
        """The database file."""
        return self.db.path

    def close(self) -> None:
        """Close the database."""
        self.db.close()


class AsyncStorage:
    """Runs ``Storage`` calls on one dedicated worker thread, so SQLite never blocks the event loop.

    Usage: ``chat = await store.run(store.sync.chats.create_chat, "title", model_id)``.
    """

    def __init__(self, storage: Storage) -> None:
        self.sync = storage
        # One thread: calls run in submission order, which keeps streamed appends in order too.
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="storage")

    @classmethod
    async def open(cls, path: Path | None = None) -> AsyncStorage:
        """Open (create/migrate) the database off the loop."""
        storage = await asyncio.to_thread(Storage, path)
        return cls(storage)

    async def run(self, fn: Callable[P, T], /, *args: P.args, **kwargs: P.kwargs) -> T:
        """Run ``fn(*args, **kwargs)`` (a Storage repository method) on the storage thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, functools.partial(fn, *args, **kwargs))

    async def append_to_message(self, message_id: int, delta: str) -> None:
        """Append streamed assistant text and commit (the hot path of a streaming answer)."""
        await self.run(self.sync.chats.append_to_message, message_id, delta)

    async def close(self) -> None:
        """Finish queued calls, then close the database."""
        await self.run(self.sync.close)
        self._executor.shutdown(wait=False)
