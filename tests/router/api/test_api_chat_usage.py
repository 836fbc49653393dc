"""``usage_from_consumer``/``usage_from_provider`` on /v1/chat/completions answers relayed from a provider node."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.support.market_api import Api, running_api
from tests.support.openai_backend import Behaviour

MESSAGES = [{"role": "user", "content": "tell me a joke"}]  # estimated 1 + 4 + 3 = 8 prompt tokens
TOKENS = ["Hello", " there", " friend"]  # 18 characters: estimated 5 tokens (≥ 3 chunks)
OURS = {"prompt_tokens": 8, "completion_tokens": 5, "total_tokens": 13}
# The test backend counts prompt words: "tell me a joke" is 4.
THEIRS = {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7}


@dataclass
class Chat:
    """The API with an open session whose provider backend answers ``TOKENS``."""

    api: Api
    session_id: str


@pytest.fixture
async def chat(tmp_path: Path) -> AsyncIterator[Chat]:
    async with running_api(tmp_path) as api:
        status, opened = await api.call("POST", f"/blockchain/models/0x{api.market.model_id.hex()}/session",
                                        json={"sessionDuration": 600})
        assert status == 200, opened
        api.market.a.backend.behaviour = Behaviour(tokens=list(TOKENS))
        yield Chat(api, opened["sessionID"])


async def _sse_events(chat: Chat, body: dict[str, Any]) -> list[Any]:
    headers = {**chat.api.headers, "session_id": chat.session_id}
    async with aiohttp.ClientSession(headers=headers) as http, \
            http.post(chat.api.server.url + "/v1/chat/completions", json=body) as res:
        assert res.status == 200
        raw = (await res.read()).decode()
    return [json.loads(e.removeprefix("data: ")) if e != "data: [DONE]" else "[DONE]"
            for e in raw.split("\n\n") if e]


async def test_the_final_sse_chunk_carries_our_count_and_the_providers(chat: Chat) -> None:
    events = await _sse_events(chat, {"messages": MESSAGES, "stream": True,
                                     "stream_options": {"include_usage": True}})

    assert events[-1] == "[DONE]"
    final = events[-2]
    assert final["usage"] == THEIRS  # the backend's usage chunk, relayed as it was
    assert final["usage_from_provider"] == THEIRS
    assert final["usage_from_consumer"] == OURS
    finish = next(e for e in events if isinstance(e, dict) and e["choices"] and e["choices"][0]["finish_reason"])
    assert finish["usage_from_consumer"] == OURS
    assert all("usage_from_consumer" not in e for e in events[:-2] if e is not finish)


async def test_without_a_provider_usage_chunk_only_our_count_is_added(chat: Chat) -> None:
    events = await _sse_events(chat, {"messages": MESSAGES, "stream": True})

    final = events[-2]
    assert final["choices"][0]["finish_reason"] == "stop"
    assert final["usage_from_consumer"] == OURS
    assert "usage_from_provider" not in final


async def test_a_non_streamed_answer_carries_both_counts_in_its_body(chat: Chat) -> None:
    status, body = await chat.api.call("POST", "/v1/chat/completions", json={"messages": MESSAGES, "stream": False},
                                       headers={"session_id": chat.session_id})

    assert status == 200, body
    assert body["object"] == "chat.completion" and body["choices"][0]["message"]["content"] == "".join(TOKENS)
    assert body["usage_from_consumer"] == OURS
    assert body["usage_from_provider"] == body["usage"] == THEIRS
