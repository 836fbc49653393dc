"""Conversions to the upstream HTTP shapes of ``GET /v1/chats`` and ``GET /v1/chats/{id}``."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from app.storage.records import Chat, Message


def chat_list_item(chat: Chat) -> dict[str, Any]:
    """One element of ``GET /v1/chats``: ``{chatId, modelId, title, isLocal, createdAt}`` (seconds)."""
    return {
        "chatId": chat.id,
        "modelId": chat.model_id,
        "title": chat.title,
        "isLocal": chat.is_local,
        "createdAt": chat.created // 1000,
    }


def _prompt(chat: Chat, user: Message) -> dict[str, Any]:
    # Upstream stores the OpenAI request that carried the turn; we rebuild its essential part.
    messages: list[dict[str, str]] = []
    if chat.system_prompt:
        messages.append({"role": "system", "content": chat.system_prompt})
    messages.append({"role": "user", "content": user.content})
    return {"model": chat.model_id, "messages": messages, "stream": True}


def chat_history(chat: Chat, messages: Sequence[Message]) -> dict[str, Any]:
    """``GET /v1/chats/{id}``: ``{title, modelId, isLocal, messages:[{prompt, response, promptAt, …}]}``.

    Each user message is paired with the assistant answer that follows it (empty if none yet); times are in
    Unix seconds as upstream writes them. System messages are folded into the prompt, not listed.
    """
    turns: list[dict[str, Any]] = []
    for msg in messages:
        if msg.role == "user":
            turns.append({
                "prompt": _prompt(chat, msg),
                "response": "",
                "promptAt": msg.created // 1000,
                "responseAt": msg.created // 1000,
                "isImageContent": False,
                "isVideoRawContent": False,
                "isAudioContent": False,
            })
        elif msg.role == "assistant" and turns:
            turns[-1]["response"] += msg.content
            turns[-1]["responseAt"] = msg.updated // 1000
    return {"title": chat.title, "modelId": chat.model_id, "isLocal": chat.is_local, "messages": turns}
