"""Locally measured provider quality: every request's TTFT/TPS/outcome, aggregates, and failover cool-down."""

from __future__ import annotations

import sqlite3

from app.storage.database import Database
from app.storage.records import ProviderRequest, ProviderStats


def _stats(row: sqlite3.Row) -> ProviderStats:
    return ProviderStats(
        provider=row["provider"], model_id=row["model_id"], requests=row["requests"], successes=row["successes"],
        mean_ttft_ms=row["ttft_sum"] / row["ttft_count"] if row["ttft_count"] else None,
        mean_tps=row["tps_sum"] / row["tps_count"] if row["tps_count"] else None,
        failed_at=row["failed_at"], last_failure_reason=row["last_failure_reason"],
    )


class ProviderStatsRepository:
    """Per provider + model: the request log and running aggregates, updated in one transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record(self, request: ProviderRequest) -> None:
        """Log one request and fold it into the aggregates; a failure also sets the cool-down time."""
        r = request
        provider, model = r.provider.lower(), r.model_id.lower()
        with self._db.write() as conn:
            conn.execute(
                "INSERT INTO provider_requests (provider, model_id, at, ok, reason, ttft_ms, tps)"
                " VALUES (?,?,?,?,?,?,?)",
                (provider, model, r.at, int(r.ok), r.reason, r.ttft_ms, r.tps),
            )
            conn.execute(
                "INSERT OR IGNORE INTO provider_stats (provider, model_id) VALUES (?, ?)", (provider, model)
            )
            conn.execute(
                "UPDATE provider_stats SET requests = requests + 1, successes = successes + ?,"
                " ttft_count = ttft_count + ?, ttft_sum = ttft_sum + ?,"
                " tps_count = tps_count + ?, tps_sum = tps_sum + ? WHERE provider = ? AND model_id = ?",
                (int(r.ok), int(r.ttft_ms is not None), r.ttft_ms or 0.0, int(r.tps is not None), r.tps or 0.0,
                 provider, model),
            )
            if not r.ok:
                conn.execute(
                    "UPDATE provider_stats SET failed_at = ?, last_failure_reason = ?"
                    " WHERE provider = ? AND model_id = ?",
                    (r.at, r.reason, provider, model),
                )

    def stats(self, provider: str, model_id: str) -> ProviderStats | None:
        """Aggregates for one provider and model, or None if never used."""
        with self._db.read() as conn:
            row = conn.execute(
                "SELECT * FROM provider_stats WHERE provider = ? AND model_id = ?",
                (provider.lower(), model_id.lower()),
            ).fetchone()
        return _stats(row) if row else None

    def stats_for_model(self, model_id: str) -> dict[str, ProviderStats]:
        """Aggregates of every provider used for a model, keyed by provider address."""
        with self._db.read() as conn:
            rows = conn.execute("SELECT * FROM provider_stats WHERE model_id = ?", (model_id.lower(),)).fetchall()
        return {r["provider"]: _stats(r) for r in rows}

    def requests(self, provider: str, model_id: str, limit: int = 100) -> list[ProviderRequest]:
        """The latest requests to a provider for a model, newest first."""
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT * FROM provider_requests WHERE provider = ? AND model_id = ? ORDER BY at DESC, id DESC"
                " LIMIT ?",
                (provider.lower(), model_id.lower(), limit),
            ).fetchall()
        return [
            ProviderRequest(r["provider"], r["model_id"], r["at"], bool(r["ok"]), r["reason"], r["ttft_ms"], r["tps"])
            for r in rows
        ]

    def cooling_down(self, model_id: str, now: int, window_ms: int) -> set[str]:
        """Providers of the model whose last failure is less than ``window_ms`` before ``now``."""
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT provider FROM provider_stats WHERE model_id = ? AND failed_at IS NOT NULL AND failed_at > ?",
                (model_id.lower(), now - window_ms),
            ).fetchall()
        return {r["provider"] for r in rows}

    def clear_cooldown(self, provider: str, model_id: str) -> None:
        """Forget the provider's last failure time (the user chose to retry it)."""
        with self._db.write() as conn:
            conn.execute(
                "UPDATE provider_stats SET failed_at = NULL WHERE provider = ? AND model_id = ?",
                (provider.lower(), model_id.lower()),
            )
