"""Local persistence in SQLite: chats, messages, receipts, sessions and provider stats."""
