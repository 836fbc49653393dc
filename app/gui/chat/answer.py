"""Records one streaming answer: persists text as it arrives and builds its receipt, even when stopped or failed."""

from __future__ import annotations

import time

from app.gui.chat.stream import AnswerReceipt, ChatTarget
from app.storage.records import Receipt
from app.storage.store import AsyncStorage


class AnswerRecorder:
    """Measures what the view saw (TTFT, deltas, wall time) so a receipt exists even if the backend sent none.

    The backend's own receipt (``reported``) wins when it came; otherwise tokens are the deltas counted, and the
    cost share of a session answer is price × seconds the request ran (what the provider is paid for).
    """

    def __init__(self, storage: AsyncStorage, message_id: int, target: ChatTarget) -> None:
        self.storage = storage
        self.message_id = message_id
        self.target = target
        self.started = time.monotonic()
        self.first_at: float | None = None
        self.deltas = 0
        self.notices: list[str] = []
        self.reported: AnswerReceipt | None = None
        self.stopped = False
        self.failed = ""
        self._unsaved: list[str] = []
        self._saved_at = self.started

    def text(self, delta: str) -> None:
        """Count a delta and queue it for SQLite."""
        if self.first_at is None:
            self.first_at = time.monotonic()
        self.deltas += 1
        self._unsaved.append(delta)

    async def persist_if_due(self, every_s: float) -> None:
        """Append queued text to the stored message when ``every_s`` passed since the last write."""
        if self._unsaved and time.monotonic() - self._saved_at >= every_s:
            await self.persist()

    async def persist(self) -> None:
        """Append queued text to the stored message now."""
        if self._unsaved:
            text = "".join(self._unsaved)
            self._unsaved.clear()
            self._saved_at = time.monotonic()
            await self.storage.append_to_message(self.message_id, text)

    def receipt(self) -> Receipt:
        """The receipt to store and show (the backend's numbers when it reported them)."""
        notes = list(self.notices)
        if self.stopped:
            notes.append("stopped by you")
        note = "\n".join(notes) or None
        session = self.target.session
        if self.reported is not None:
            r = self.reported
            return Receipt(self.message_id, r.provider, r.bid_id or (session.bid_id if session else None),
                           r.session_id, r.model_id or self.target.model_id, r.input_tokens, r.output_tokens,
                           r.ttft_ms, r.tps, r.cost_wei, note)
        ended = time.monotonic()
        ttft = None if self.first_at is None else (self.first_at - self.started) * 1000
        generating = ended - self.first_at if self.first_at is not None else 0.0
        tps = self.deltas / generating if generating > 0 else 0.0
        cost = int(session.price_per_second_wei * (ended - self.started)) if session is not None else 0
        return Receipt(
            self.message_id, session.provider if session else self.target.label,
            session.bid_id if session else None, session.id if session else None, self.target.model_id,
            None, self.deltas, ttft, tps, cost, note,
        )

    async def finish(self) -> Receipt:
        """Persist the rest of the text and the receipt; returns the receipt."""
        await self.persist()
        receipt = self.receipt()
        await self.storage.run(self.storage.sync.receipts.save, receipt)
        return receipt
