"""Group chats by recency for the sidebar: Today, Yesterday, Previous 7 days, Previous 30 days, then months."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from app.storage.records import Chat


def date_group(updated_ms: int, now: dt.datetime) -> str:
    """The label of the group a chat updated at ``updated_ms`` belongs to, seen from ``now`` (aware)."""
    when = dt.datetime.fromtimestamp(updated_ms / 1000, tz=now.tzinfo)
    days = (now.date() - when.date()).days
    if days <= 0:
        return "Today"
    if days == 1:
        return "Yesterday"
    if days < 7:
        return "Previous 7 days"
    if days < 30:
        return "Previous 30 days"
    return when.strftime("%B %Y")


def group_by_date(chats: Iterable[Chat], now: dt.datetime | None = None) -> list[tuple[str, list[Chat]]]:
    """Chats (newest first) in ordered groups; ``now`` defaults to the local time."""
    now = now or dt.datetime.now().astimezone()
    groups: dict[str, list[Chat]] = {}
    for chat in sorted(chats, key=lambda c: c.updated, reverse=True):
        groups.setdefault(date_group(chat.updated, now), []).append(chat)
    return list(groups.items())
