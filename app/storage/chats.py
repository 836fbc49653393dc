"""Chats and their messages: create, stream into, edit-and-resend, search and list."""

from __future__ import annotations

import enum
import sqlite3
from typing import Final

from app.errors import StorageError
from app.storage.database import Database
from app.storage.records import Chat, Message, SearchHit, check_chat_id, new_chat_id, now_ms

ROLES: Final = frozenset({"system", "user", "assistant", "tool"})


class _Unset(enum.Enum):
    UNSET = enum.auto()


UNSET: Final = _Unset.UNSET


def _chat(row: sqlite3.Row) -> Chat:
    return Chat(
        id=row["id"], title=row["title"], model_id=row["model_id"], session_id=row["session_id"],
        is_local=bool(row["is_local"]), system_prompt=row["system_prompt"], temperature=row["temperature"],
        max_tokens=row["max_tokens"], created=row["created"], updated=row["updated"],
    )


def _message(row: sqlite3.Row) -> Message:
    return Message(
        id=row["id"], chat_id=row["chat_id"], position=row["position"], role=row["role"],
        content=row["content"], created=row["created"], updated=row["updated"],
    )


def _fts_query(text: str) -> str:
    # Each word becomes a quoted prefix term, so user punctuation can never be read as FTS syntax.
    words = [w.replace('"', '""') for w in text.split()]
    return " ".join(f'"{w}"*' for w in words)


def _like_pattern(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class ChatRepository:
    """Chats and messages in the node database; each call commits before it returns."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create_chat(
        self,
        title: str,
        model_id: str,
        *,
        chat_id: str | None = None,
        session_id: str | None = None,
        is_local: bool = False,
        system_prompt: str = "",
        temperature: float | None = None,
        max_tokens: int | None = None,
        at: int | None = None,
    ) -> Chat:
        """Create and return a chat (a fresh 0x+64-hex id unless ``chat_id`` is given)."""
        cid = check_chat_id(chat_id) if chat_id else new_chat_id()
        ts = now_ms() if at is None else at
        with self._db.write() as conn:
            try:
                conn.execute(
                    "INSERT INTO chats (id, title, model_id, session_id, is_local, system_prompt, temperature,"
                    " max_tokens, created, updated) VALUES (?,?,?,?,?,?,?,?,?,?)",
                    (cid, title, model_id, session_id, int(is_local), system_prompt, temperature, max_tokens,
                     ts, ts),
                )
            except sqlite3.IntegrityError as e:
                raise StorageError(f"A chat with id {cid} already exists.") from e
        return Chat(cid, title, model_id, session_id, is_local, system_prompt, temperature, max_tokens, ts, ts)

    def get_chat(self, chat_id: str) -> Chat | None:
        """The chat with this id, or None."""
        with self._db.read() as conn:
            row = conn.execute("SELECT * FROM chats WHERE id = ?", (chat_id.lower(),)).fetchone()
        return _chat(row) if row else None

    def list_chats(self, limit: int | None = None) -> list[Chat]:
        """Chats, most recently updated first."""
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT * FROM chats ORDER BY updated DESC, id LIMIT ?", (-1 if limit is None else limit,)
            ).fetchall()
        return [_chat(r) for r in rows]

    def update_chat(
        self,
        chat_id: str,
        *,
        title: str | _Unset = UNSET,
        model_id: str | _Unset = UNSET,
        session_id: str | _Unset | None = UNSET,
        is_local: bool | _Unset = UNSET,
        system_prompt: str | _Unset = UNSET,
        temperature: float | _Unset | None = UNSET,
        max_tokens: int | _Unset | None = UNSET,
    ) -> Chat:
        """Change the given fields of a chat (others untouched) and return it; StorageError if missing."""
        changes: dict[str, object] = {
            name: value
            for name, value in (
                ("title", title), ("model_id", model_id), ("session_id", session_id), ("is_local", is_local),
                ("system_prompt", system_prompt), ("temperature", temperature), ("max_tokens", max_tokens),
            )
            if value is not UNSET
        }
        changes["updated"] = now_ms()
        # Column names come from the fixed tuple above, never from the caller.
        assignments = ", ".join(f"{name} = ?" for name in changes)
        with self._db.write() as conn:
            cursor = conn.execute(
                f"UPDATE chats SET {assignments} WHERE id = ?",  # noqa: S608
                (*changes.values(), chat_id.lower()),
            )
            if cursor.rowcount == 0:
                raise StorageError(f"No chat with id {chat_id}.")
        chat = self.get_chat(chat_id)
        assert chat is not None
        return chat

    def delete_chat(self, chat_id: str) -> bool:
        """Delete a chat with its messages and receipts; False if it did not exist."""
        with self._db.write() as conn:
            return conn.execute("DELETE FROM chats WHERE id = ?", (chat_id.lower(),)).rowcount > 0

    def add_message(self, chat_id: str, role: str, content: str, *, at: int | None = None) -> Message:
        """Append a message at the end of the chat and return it."""
        if role not in ROLES:
            raise StorageError(f"Invalid message role {role!r}: expected one of {sorted(ROLES)}.")
        ts = now_ms() if at is None else at
        cid = chat_id.lower()
        with self._db.write() as conn:
            if conn.execute("SELECT 1 FROM chats WHERE id = ?", (cid,)).fetchone() is None:
                raise StorageError(f"No chat with id {chat_id}.")
            position = conn.execute(
                "SELECT COALESCE(MAX(position), -1) + 1 FROM messages WHERE chat_id = ?", (cid,)
            ).fetchone()[0]
            cursor = conn.execute(
                "INSERT INTO messages (chat_id, position, role, content, created, updated) VALUES (?,?,?,?,?,?)",
                (cid, position, role, content, ts, ts),
            )
            conn.execute("UPDATE chats SET updated = ? WHERE id = ?", (ts, cid))
        assert cursor.lastrowid is not None
        return Message(cursor.lastrowid, cid, position, role, content, ts, ts)

    def append_to_message(self, message_id: int, delta: str) -> None:
        """Append streamed text to a message and commit, so a crash keeps everything received so far."""
        with self._db.write() as conn:
            cursor = conn.execute(
                "UPDATE messages SET content = content || ?, updated = ? WHERE id = ?",
                (delta, now_ms(), message_id),
            )
            if cursor.rowcount == 0:
                raise StorageError(f"No message with id {message_id}.")

    def get_message(self, message_id: int) -> Message | None:
        """The message with this id, or None."""
        with self._db.read() as conn:
            row = conn.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
        return _message(row) if row else None

    def messages(self, chat_id: str, *, from_position: int = 0, limit: int | None = None) -> list[Message]:
        """The chat's messages in order (the (chat_id, position) index keeps long chats fast)."""
        with self._db.read() as conn:
            rows = conn.execute(
                "SELECT * FROM messages WHERE chat_id = ? AND position >= ? ORDER BY position LIMIT ?",
                (chat_id.lower(), from_position, -1 if limit is None else limit),
            ).fetchall()
        return [_message(r) for r in rows]

    def edit_message(self, message_id: int, content: str) -> Message:
        """Edit-and-resend-from-here: replace the message's text and delete every later message of the chat."""
        ts = now_ms()
        with self._db.write() as conn:
            row = conn.execute("SELECT * FROM messages WHERE id = ?", (message_id,)).fetchone()
            if row is None:
                raise StorageError(f"No message with id {message_id}.")
            conn.execute(
                "DELETE FROM messages WHERE chat_id = ? AND position > ?", (row["chat_id"], row["position"])
            )
            conn.execute("UPDATE messages SET content = ?, updated = ? WHERE id = ?", (content, ts, message_id))
            conn.execute("UPDATE chats SET updated = ? WHERE id = ?", (ts, row["chat_id"]))
        old = _message(row)
        return Message(old.id, old.chat_id, old.position, old.role, content, old.created, ts)

    def delete_messages_from(self, chat_id: str, position: int) -> int:
        """Delete the messages at ``position`` and after (regenerate an answer); return how many went."""
        with self._db.write() as conn:
            return conn.execute(
                "DELETE FROM messages WHERE chat_id = ? AND position >= ?", (chat_id.lower(), position)
            ).rowcount

    def search(self, text: str, limit: int = 50) -> list[SearchHit]:
        """Chats whose title or message content contains ``text`` (FTS5 prefix match when available)."""
        text = text.strip()
        if not text:
            return []
        hits: list[SearchHit] = []
        with self._db.read() as conn:
            for row in conn.execute(
                "SELECT id, title FROM chats WHERE title LIKE ? ESCAPE '\\' ORDER BY updated DESC LIMIT ?",
                (_like_pattern(text), limit),
            ):
                hits.append(SearchHit(row["id"], row["title"], None, row["title"]))
            if self._db.has_table("messages_fts"):
                rows = conn.execute(
                    "SELECT m.chat_id, c.title, m.id, snippet(messages_fts, 0, '[', ']', '…', 12) AS snip"
                    " FROM messages_fts JOIN messages m ON m.id = messages_fts.rowid"
                    " JOIN chats c ON c.id = m.chat_id WHERE messages_fts MATCH ?"
                    " ORDER BY c.updated DESC, m.position LIMIT ?",
                    (_fts_query(text), limit),
                ).fetchall()
            else:
                rows = conn.execute(
                    "SELECT m.chat_id, c.title, m.id, substr(m.content, 1, 80) AS snip FROM messages m"
                    " JOIN chats c ON c.id = m.chat_id WHERE m.content LIKE ? ESCAPE '\\'"
                    " ORDER BY c.updated DESC, m.position LIMIT ?",
                    (_like_pattern(text), limit),
                ).fetchall()
        hits.extend(SearchHit(r["chat_id"], r["title"], r["id"], r["snip"]) for r in rows)
        return hits[:limit]
