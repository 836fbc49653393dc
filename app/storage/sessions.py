"""The consumer's session cache and the pending-transaction journal, both read back after a restart."""

from __future__ import annotations

import sqlite3

from app.errors import StorageError
from app.storage.database import Database
from app.storage.records import CachedSession, PendingTransaction, now_ms

TX_STATES = frozenset({"pending", "mined", "failed", "dropped", "replaced"})


def _session(row: sqlite3.Row) -> CachedSession:
    return CachedSession(
        id=row["id"], user=row["user"], provider=row["provider"], model_id=row["model_id"], bid_id=row["bid_id"],
        stake_wei=int(row["stake_wei"]), price_per_second_wei=int(row["price_per_second_wei"]),
        opened_at=row["opened_at"], ends_at=row["ends_at"], closed_at=row["closed_at"],
        failover=bool(row["failover"]), provider_url=row["provider_url"], provider_pubkey=row["provider_pubkey"],
    )


class SessionRepository:
    """Sessions this node opened, keyed by on-chain session id (times in Unix seconds, as on chain)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def save(self, session: CachedSession) -> None:
        """Insert or replace a session."""
        s = session
        with self._db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO sessions (id, user, provider, model_id, bid_id, stake_wei,"
                " price_per_second_wei, opened_at, ends_at, closed_at, failover, provider_url, provider_pubkey)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (s.id.lower(), s.user.lower(), s.provider.lower(), s.model_id.lower(), s.bid_id.lower(),
                 str(s.stake_wei), str(s.price_per_second_wei), s.opened_at, s.ends_at, s.closed_at,
                 int(s.failover), s.provider_url, s.provider_pubkey),
            )

    def get(self, session_id: str) -> CachedSession | None:
        """One session, or None."""
        with self._db.read() as conn:
            row = conn.execute("SELECT * FROM sessions WHERE id = ?", (session_id.lower(),)).fetchone()
        return _session(row) if row else None

    def open_sessions(self, user: str, now_s: int) -> list[CachedSession]:
        """The user's sessions not closed and not yet ended at ``now_s``, soonest-ending first."""
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT * FROM sessions WHERE user = ? AND closed_at IS NULL AND ends_at > ? ORDER BY ends_at",
                (user.lower(), now_s),
            ).fetchall()
        return [_session(r) for r in rows]

    def unclosed_sessions(self, user: str) -> list[CachedSession]:
        """Every session of the user with no close recorded (expired ones included), oldest first."""
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT * FROM sessions WHERE user = ? AND closed_at IS NULL ORDER BY opened_at", (user.lower(),)
            ).fetchall()
        return [_session(r) for r in rows]

    def mark_closed(self, session_id: str, closed_at: int) -> bool:
        """Record the close time; False if the session is unknown."""
        with self._db.write() as conn:
            return conn.execute(
                "UPDATE sessions SET closed_at = ? WHERE id = ?", (closed_at, session_id.lower())
            ).rowcount > 0


# Settled journal rows are kept this long (for support questions), then deleted when the database opens.
SETTLED_RETENTION_MS = 30 * 24 * 3600 * 1000


class PendingTransactionRepository:
    """Transactions sent and not yet settled, so a restart can find and watch them."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, tx_hash: str, nonce: int, purpose: str, *, sender: str = "", chain_id: int = 0,
            raw: bytes | None = None, at: int | None = None) -> PendingTransaction:
        """Record a transaction as pending (written before it is broadcast, so a crash cannot lose it).

        ``raw`` is the signed transaction as it will be broadcast, so a restart can send it again.
        """
        tx = PendingTransaction(tx_hash.lower(), nonce, purpose, now_ms() if at is None else at,
                                sender=sender.lower(), chain_id=chain_id, raw=raw)
        with self._db.write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO pending_transactions"
                " (hash, nonce, purpose, created, state, sender, chain_id, raw, settled)"
                " VALUES (?,?,?,?,?,?,?,?,NULL)",
                (tx.hash, tx.nonce, tx.purpose, tx.created, tx.state, tx.sender, tx.chain_id, tx.raw),
            )
        return tx

    def set_state(self, tx_hash: str, state: str, *, at: int | None = None) -> bool:
        """Move a transaction to ``state`` (pending/mined/failed/dropped/replaced); False if unknown.

        Leaving "pending" stamps ``settled`` (``at``, default now), the age pruning goes by.
        """
        if state not in TX_STATES:
            raise StorageError(f"Invalid transaction state {state!r}: expected one of {sorted(TX_STATES)}.")
        settled = None if state == "pending" else (now_ms() if at is None else at)
        with self._db.write() as conn:
            return conn.execute(
                "UPDATE pending_transactions SET state = ?, settled = ? WHERE hash = ?",
                (state, settled, tx_hash.lower()),
            ).rowcount > 0

    def get(self, tx_hash: str) -> PendingTransaction | None:
        """One journaled transaction in whatever state, or None."""
        with self._db.read() as conn:
            row = conn.execute("SELECT * FROM pending_transactions WHERE hash = ?", (tx_hash.lower(),)).fetchone()
        return _pending_tx(row) if row else None

    def pending(self, sender: str | None = None, chain_id: int | None = None) -> list[PendingTransaction]:
        """Transactions still pending (of ``sender`` on ``chain_id`` when given), by nonce."""
        query = "SELECT * FROM pending_transactions WHERE state = 'pending'"
        args: list[object] = []
        if sender is not None:
            query += " AND sender = ?"
            args.append(sender.lower())
        if chain_id is not None:
            query += " AND chain_id = ?"
            args.append(chain_id)
        with self._db.read() as conn:
            rows = conn.execute(query + " ORDER BY nonce, created", args).fetchall()
        return [_pending_tx(r) for r in rows]

    def prune_settled(self, *, older_than_ms: int = SETTLED_RETENTION_MS, now: int | None = None) -> int:
        """Delete settled rows whose end state is older than ``older_than_ms``; pending rows always stay.

        Rows settled before schema v4 have no ``settled`` stamp and age from ``created``. Returns the count.
        """
        cutoff = (now_ms() if now is None else now) - older_than_ms
        with self._db.write() as conn:
            return conn.execute(
                "DELETE FROM pending_transactions WHERE state != 'pending' AND COALESCE(settled, created) < ?",
                (cutoff,),
            ).rowcount


def _pending_tx(row: sqlite3.Row) -> PendingTransaction:
    raw = row["raw"]
    return PendingTransaction(row["hash"], row["nonce"], row["purpose"], row["created"], row["state"],
                              sender=row["sender"], chain_id=row["chain_id"],
                              raw=bytes(raw) if raw is not None else None, settled=row["settled"])
