"""Key/value settings the GUI changes at run time (text values; callers encode anything richer)."""

from __future__ import annotations

from app.storage.database import Database


class SettingsRepository:
    """String settings by key."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def get(self, key: str, default: str | None = None) -> str | None:
        """The value stored under ``key``, else ``default``."""
        with self._db.read() as conn:
            row = conn.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else default

    def set(self, key: str, value: str) -> None:
        """Store ``value`` under ``key``."""
        with self._db.write() as conn:
            conn.execute("INSERT OR REPLACE INTO settings (key, value) VALUES (?, ?)", (key, value))

    def delete(self, key: str) -> bool:
        """Remove ``key``; False if it was not set."""
        with self._db.write() as conn:
            return conn.execute("DELETE FROM settings WHERE key = ?", (key,)).rowcount > 0

    def all(self) -> dict[str, str]:
        """Every setting."""
        with self._db.read() as conn:
            return {r[0]: r[1] for r in conn.execute("SELECT key, value FROM settings ORDER BY key")}
