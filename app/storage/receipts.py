"""Receipts: one per assistant answer, with provider, tokens, speed and the MOR cost share."""

from __future__ import annotations

import sqlite3

from app.storage.database import Database
from app.storage.records import Receipt

_COLUMNS = (
    "message_id", "provider", "bid_id", "session_id", "model_id", "input_tokens", "output_tokens", "ttft_ms",
    "tps", "cost_wei", "failover_note",
)


def _receipt(row: sqlite3.Row) -> Receipt:
    cost = row["cost_wei"]
    return Receipt(
        message_id=row["message_id"], provider=row["provider"], bid_id=row["bid_id"],
        session_id=row["session_id"], model_id=row["model_id"], input_tokens=row["input_tokens"],
        output_tokens=row["output_tokens"], ttft_ms=row["ttft_ms"], tps=row["tps"],
        cost_wei=None if cost is None else int(cost), failover_note=row["failover_note"],
    )


class ReceiptRepository:
    """Receipts keyed by the assistant message they describe; deleting the message deletes its receipt."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def save(self, receipt: Receipt) -> None:
        """Insert or replace the receipt of ``receipt.message_id``."""
        values = (
            receipt.message_id, receipt.provider, receipt.bid_id, receipt.session_id, receipt.model_id,
            receipt.input_tokens, receipt.output_tokens, receipt.ttft_ms, receipt.tps,
            None if receipt.cost_wei is None else str(receipt.cost_wei), receipt.failover_note,
        )
        with self._db.write() as conn:
            conn.execute(
                f"INSERT OR REPLACE INTO receipts ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' * len(_COLUMNS))})",  # noqa: S608
                values,
            )

    def get(self, message_id: int) -> Receipt | None:
        """The receipt of one message, or None."""
        with self._db.read() as conn:
            row = conn.execute("SELECT * FROM receipts WHERE message_id = ?", (message_id,)).fetchone()
        return _receipt(row) if row else None

    def for_chat(self, chat_id: str) -> dict[int, Receipt]:
        """Every receipt of a chat, keyed by message id."""
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT r.* FROM receipts r JOIN messages m ON m.id = r.message_id WHERE m.chat_id = ?",
                (chat_id.lower(),),
            ).fetchall()
        return {r["message_id"]: _receipt(r) for r in rows}
