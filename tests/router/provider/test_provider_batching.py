"""Adaptive batching end to end: a backlog read at once leaves the provider merged, a paced stream does not."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web

from app.config.models_config import parse_models_config
from app.router.provider.backends import DONE, BackendItem, OpenAIBackend
from tests.router.provider import morrpc_consumer as c
from tests.router.provider.provider_env import STAKE, Devnet, running_provider
from tests.support.openai_backend import Behaviour, OpenAIBackendServer

pytestmark = pytest.mark.asyncio(loop_scope="module")

TOKENS = ["Hello", ",", " world", "!"]
CHAT = {"messages": [{"role": "user", "content": "Say hello"}], "stream": True}


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    return {"id": "chatcmpl-burst", "object": "chat.completion.chunk", "created": 1700000000, "model": "m",
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]}


class BurstBackend:
    """An OpenAI-shaped backend whose whole streamed answer is one write: what a reader that fell behind sees."""

    def __init__(self) -> None:
        self.port = 0
        self._runner: web.AppRunner | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    async def __aenter__(self) -> BurstBackend:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    async def _chat(self, request: web.Request) -> web.Response:
        await request.read()
        events = [_chunk({"role": "assistant"}), *(_chunk({"content": t}) for t in TOKENS), _chunk({}, "stop")]
        body = "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"
        return web.Response(body=body.encode(), content_type="text/event-stream")


@pytest_asyncio.fixture(loop_scope="module")
async def burst() -> AsyncIterator[BurstBackend]:
    async with BurstBackend() as server:
        yield server


async def batches_of(backend: OpenAIBackend) -> list[list[BackendItem]]:
    async with aclosing(backend.stream_chat_batches(CHAT)) as batches:
        return [batch async for batch in batches]


async def test_items_that_arrived_together_come_out_as_one_batch(burst: BurstBackend) -> None:
    async with OpenAIBackend("m", burst.base_url, timeout=5) as backend:
        batches = await batches_of(backend)
    assert len(batches) == 1
    [batch] = batches
    assert batch[0] == _chunk({"role": "assistant"})
    assert [b["choices"][0]["delta"]["content"] for b in batch[1:5]] == TOKENS  # type: ignore[index]
    assert batch[-1] == DONE


async def test_a_paced_stream_comes_out_one_token_per_batch() -> None:
    async with OpenAIBackendServer(Behaviour(tokens=TOKENS, token_delay=0.25)) as server, OpenAIBackend(
        "m", server.base_url, timeout=10
    ) as backend:
        batches = await batches_of(backend)
    texts_per_batch = [sum(1 for i in b if isinstance(i, dict) and i["choices"] and "content" in
                           i["choices"][0]["delta"]) for b in batches]
    assert [n for n in texts_per_batch if n] == [1, 1, 1, 1]  # role, finish and [DONE] may ride along


async def prompt_through_provider(devnet: Devnet, backend_url: str, congested_s: float) -> tuple[list[Any], int]:
    """One prompt through our provider reading ``backend_url``: (decrypted items, output tokens it measured)."""
    entry = {"modelId": "0x" + devnet.model_id.hex(), "modelName": "served-model", "apiType": "openai",
             "apiUrl": backend_url}
    models = parse_models_config({"models": [entry]}, "test models-config")
    async with running_provider(devnet, models) as (server, controller):
        controller.congested_s = congested_s
        user = devnet.protocol.user
        res = c.approval(await c.exchange(server.address[1], c.session_request(user.signer, devnet.bid_id, STAKE)))
        session_id = await devnet.open_session(user, res.approval, res.approval_sig)
        responses = await c.exchange(server.address[1], c.prompt(user.signer, session_id, CHAT))
        state = controller.store.get(session_id)
    assert state is not None and state.last_prompt is not None
    return c.open_answer(responses, user.signer, res.pub_key).items, state.last_prompt.output_tokens


async def test_a_provider_that_is_behind_relays_the_backlog_as_one_chunk_and_counts_every_token(
    fresh_chain: Devnet, burst: BurstBackend
) -> None:
    items, output_tokens = await prompt_through_provider(fresh_chain, burst.base_url, congested_s=0.0)
    assert items == [_chunk({"role": "assistant"}), _chunk({"content": "Hello, world!"}), _chunk({}, "stop"), DONE]
    assert output_tokens == len(TOKENS)  # measured on the backend's chunks, before merging


async def test_a_provider_that_keeps_up_relays_a_bursty_backend_chunk_by_chunk(
    fresh_chain: Devnet, burst: BurstBackend
) -> None:
    items, _ = await prompt_through_provider(fresh_chain, burst.base_url, congested_s=60.0)
    assert items == [_chunk({"role": "assistant"}), *(_chunk({"content": t}) for t in TOKENS), _chunk({}, "stop"),
                     DONE]
