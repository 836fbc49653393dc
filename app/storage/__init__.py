"""Local persistence in SQLite: chats, messages, receipts, sessions and provider stats."""

from app.storage.records import (
    CachedSession,
    Chat,
    Message,
    PendingTransaction,
    ProviderRequest,
    ProviderStats,
    Receipt,
    SearchHit,
)
from app.storage.store import AsyncStorage, Storage

__all__ = [
    "AsyncStorage",
    "CachedSession",
    "Chat",
    "Message",
    "PendingTransaction",
    "ProviderRequest",
    "ProviderStats",
    "Receipt",
    "SearchHit",
    "Storage",
]
