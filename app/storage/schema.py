"""The database schema as stepwise migrations, each taking version N-1 to N inside one transaction."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable

from app.errors import StorageError

log = logging.getLogger(__name__)

# Times are Unix milliseconds (INTEGER); MOR/ETH amounts are wei as decimal TEXT (they exceed 2^63).

_V1 = """
CREATE TABLE chats (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL,
    model_id TEXT NOT NULL,
    session_id TEXT,
    is_local INTEGER NOT NULL DEFAULT 0,
    system_prompt TEXT NOT NULL DEFAULT '',
    temperature REAL,
    max_tokens INTEGER,
    created INTEGER NOT NULL,
    updated INTEGER NOT NULL
);
CREATE INDEX chats_updated ON chats(updated);
CREATE TABLE messages (
    id INTEGER PRIMARY KEY,
    chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    role TEXT NOT NULL,
    content TEXT NOT NULL,
    created INTEGER NOT NULL,
    UNIQUE (chat_id, position)
);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""

_V2 = """
ALTER TABLE messages ADD COLUMN updated INTEGER;
UPDATE messages SET updated = created;
CREATE TABLE receipts (
    message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
    provider TEXT,
    bid_id TEXT,
    session_id TEXT,
    model_id TEXT,
    input_tokens INTEGER,
    output_tokens INTEGER,
    ttft_ms REAL,
    tps REAL,
    cost_wei TEXT,
    failover_note TEXT
);
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    user TEXT NOT NULL,
    provider TEXT NOT NULL,
    model_id TEXT NOT NULL,
    bid_id TEXT NOT NULL,
    stake_wei TEXT NOT NULL,
    price_per_second_wei TEXT NOT NULL,
    opened_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    closed_at INTEGER,
    failover INTEGER NOT NULL DEFAULT 1,
    provider_url TEXT NOT NULL DEFAULT '',
    provider_pubkey TEXT NOT NULL DEFAULT ''
);
CREATE INDEX sessions_user_open ON sessions(user, closed_at, ends_at);
CREATE TABLE provider_requests (
    id INTEGER PRIMARY KEY,
    provider TEXT NOT NULL,
    model_id TEXT NOT NULL,
    at INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    ttft_ms REAL,
    tps REAL
);
CREATE INDEX provider_requests_key ON provider_requests(provider, model_id, at);
CREATE TABLE provider_stats (
    provider TEXT NOT NULL,
    model_id TEXT NOT NULL,
    requests INTEGER NOT NULL DEFAULT 0,
    successes INTEGER NOT NULL DEFAULT 0,
    ttft_count INTEGER NOT NULL DEFAULT 0,
    ttft_sum REAL NOT NULL DEFAULT 0,
    tps_count INTEGER NOT NULL DEFAULT 0,
    tps_sum REAL NOT NULL DEFAULT 0,
    failed_at INTEGER,
    last_failure_reason TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (provider, model_id)
);
CREATE TABLE pending_transactions (
    hash TEXT PRIMARY KEY,
    nonce INTEGER NOT NULL,
    purpose TEXT NOT NULL,
    created INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending'
);
"""

# Full-text search over message content, kept in step with the messages table by triggers.
_V2_FTS = """
CREATE VIRTUAL TABLE messages_fts USING fts5(content, content='messages', content_rowid='id');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF content ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, content) VALUES ('delete', old.id, old.content);
    INSERT INTO messages_fts(rowid, content) VALUES (new.id, new.content);
END;
INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
"""


# Pending transactions name their sender and chain, so a restart resumes only this wallet's on this chain.
_V3 = """
ALTER TABLE pending_transactions ADD COLUMN sender TEXT NOT NULL DEFAULT '';
ALTER TABLE pending_transactions ADD COLUMN chain_id INTEGER NOT NULL DEFAULT 0;
CREATE INDEX pending_transactions_owner ON pending_transactions(sender, chain_id, state);
"""

# Pending transactions keep their raw signed bytes (public once broadcast), so a restart can rebroadcast a tx the
# node lost or re-sign it with a higher fee; ``settled`` (ms) dates the end state so old rows can be pruned.
# Rows from before v4 have neither: they recover as before (no rebroadcast) and age by ``created``.
_V4 = """
ALTER TABLE pending_transactions ADD COLUMN raw BLOB;
ALTER TABLE pending_transactions ADD COLUMN settled INTEGER;
CREATE INDEX pending_transactions_age ON pending_transactions(state, settled);
"""


def fts5_available(conn: sqlite3.Connection) -> bool:
    """Whether this SQLite build has FTS5 (most do; search falls back to LIKE otherwise)."""
    return bool(conn.execute("SELECT sqlite_compileoption_used('ENABLE_FTS5')").fetchone()[0])


def _execute_script(conn: sqlite3.Connection, script: str) -> None:
    # executescript() would COMMIT our open transaction, so run the statements one by one.
    statement = ""
    for line in script.splitlines(keepends=True):
        statement += line
        if sqlite3.complete_statement(statement):
            conn.execute(statement)
            statement = ""


def _to_v1(conn: sqlite3.Connection) -> None:
    _execute_script(conn, _V1)


def _to_v2(conn: sqlite3.Connection) -> None:
    _execute_script(conn, _V2)
    if fts5_available(conn):
        _execute_script(conn, _V2_FTS)
    else:
        log.info("SQLite has no FTS5: chat search will use LIKE")


def _to_v3(conn: sqlite3.Connection) -> None:
    _execute_script(conn, _V3)


def _to_v4(conn: sqlite3.Connection) -> None:
    _execute_script(conn, _V4)


MIGRATIONS: list[Callable[[sqlite3.Connection], None]] = [_to_v1, _to_v2, _to_v3, _to_v4]
CURRENT_VERSION = len(MIGRATIONS)


def apply_migrations(conn: sqlite3.Connection, target: int | None = None) -> int:
    """Bring the schema to ``target`` (default: current) inside the caller's transaction; return the version."""
    target = CURRENT_VERSION if target is None else target
    conn.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = conn.execute("SELECT version FROM schema_version").fetchone()
    if row is None:
        conn.execute("INSERT INTO schema_version (version) VALUES (0)")
        version = 0
    else:
        version = int(row[0])
    if version > CURRENT_VERSION:
        raise StorageError(
            f"The database was written by a newer version of the app (schema {version}, this app knows "
            f"{CURRENT_VERSION}): update the app, or move the database aside to start fresh."
        )
    while version < target:
        MIGRATIONS[version](conn)
        version += 1
        conn.execute("UPDATE schema_version SET version = ?", (version,))
        log.info("database schema migrated to version %d", version)
    return version
