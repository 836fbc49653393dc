"""End to end against the real SmolLM2-135M under llama-cpp-python's server, through OpenAIBackend."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import pytest
import pytest_asyncio

from app.devnet.local_model import MISSING_MESSAGE, LocalModelServer
from app.router.provider.backends import DONE, BackendItem, OpenAIBackend, RequestStats

pytestmark = [
    pytest.mark.llm,
    pytest.mark.skipif(not LocalModelServer().available(), reason=MISSING_MESSAGE),
    pytest.mark.asyncio(loop_scope="module"),
    pytest.mark.timeout(60),
]


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def backend(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[OpenAIBackend]:
    # One model server for the module: start-up is the slow part (~3 s).
    log_path = tmp_path_factory.mktemp("smollm2") / "local-model.log"
    async with (
        LocalModelServer(log_path=log_path) as server,
        OpenAIBackend(server.model_name, server.chat_completions_url, timeout=30) as client,
    ):
        yield client


def question(max_tokens: int) -> dict[str, Any]:
    return {
        "messages": [{"role": "user", "content": "What is the capital of France? Answer in one sentence."}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": True,
    }


def content_deltas(items: list[BackendItem]) -> list[str]:
    return [
        choice["delta"]["content"]
        for item in items
        if isinstance(item, dict)
        for choice in item["choices"]
        if choice["delta"].get("content")
    ]


async def test_smollm2_streams_a_measured_answer(backend: OpenAIBackend) -> None:
    stats = RequestStats()
    async with aclosing(backend.stream_chat(question(32), stats=stats)) as stream:
        items = [item async for item in stream]

    text = "".join(content_deltas(items))
    assert text.strip()
    assert items[-1] == DONE
    assert stats.finish_reason in {"stop", "length"}
    assert stats.ttft_ms is not None
    assert 0 < stats.ttft_ms < stats.wall_ms
    # llama-cpp-python sends no usage chunk, so tokens are counted from the deltas.
    assert stats.output_tokens == len(content_deltas(items))
    assert stats.tps > 0


async def test_stopping_an_answer_frees_the_model_for_the_next_one(backend: OpenAIBackend) -> None:
    first_token = asyncio.Event()

    async def long_answer() -> None:
        request = {**question(2000), "messages": [{"role": "user", "content": "Tell a very long story."}]}
        async for item in backend.stream_chat(request):
            if content_deltas([item]):
                first_token.set()

    task = asyncio.create_task(long_answer())
    async with asyncio.timeout(20):
        await first_token.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    # Were the first answer still generating (up to 2000 tokens), this one would queue behind it.
    stats = await backend.check(max_tokens=4)
    assert stats.ttft_ms is not None
    assert stats.ttft_ms < 5000
