"""Export a chat to Markdown or JSON, each answer with its receipt."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from app.errors import StorageError
from app.gui.chat.receipt_text import receipt_line
from app.storage.records import Chat, Message, Receipt


def _when(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def to_markdown(chat: Chat, messages: Sequence[Message], receipts: Mapping[int, Receipt]) -> str:
    """The chat as a Markdown document: title, settings, then each turn with its receipt in italics."""
    lines = [f"# {chat.title}", "", f"- model: `{chat.model_id}`", f"- created: {_when(chat.created)}"]
    if chat.system_prompt:
        lines += ["", "## System prompt", "", chat.system_prompt]
    for message in messages:
        lines += ["", f"## {message.role.capitalize()}", "", message.content]
        receipt = receipts.get(message.id)
        if receipt is not None:
            if receipt.failover_note:
                lines += ["", f"> {receipt.failover_note}"]
            lines += ["", f"*{receipt_line(receipt)}*"]
    return "\n".join(lines) + "\n"


def to_json(chat: Chat, messages: Sequence[Message], receipts: Mapping[int, Receipt]) -> str:
    """The chat as JSON: the chat record and its messages, each with its receipt (or null); wei as strings."""

    def receipt_obj(receipt: Receipt | None) -> dict[str, object] | None:
        if receipt is None:
            return None
        obj = dataclasses.asdict(receipt)
        obj["cost_wei"] = None if receipt.cost_wei is None else str(receipt.cost_wei)  # beyond JS number range
        return obj

    document = {
        "chat": dataclasses.asdict(chat),
        "messages": [
            {**dataclasses.asdict(m), "receipt": receipt_obj(receipts.get(m.id))} for m in messages
        ],
    }
    return json.dumps(document, ensure_ascii=False, indent=2)


def write_export(path: Path, chat: Chat, messages: Sequence[Message], receipts: Mapping[int, Receipt]) -> None:
    """Write Markdown for ``.md`` files, JSON for ``.json``; StorageError naming the problem otherwise."""
    suffix = path.suffix.lower()
    if suffix == ".md":
        text = to_markdown(chat, messages, receipts)
    elif suffix == ".json":
        text = to_json(chat, messages, receipts)
    else:
        raise StorageError(f"Cannot export to {path.name}: choose a file name ending in .md or .json.")
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as e:
        raise StorageError(f"Cannot write {path}: {e.strerror or e}. Choose another folder.") from e
