"""OpenAIBackend against a real OpenAI-shaped server on 127.0.0.1: items, errors, timeouts, cancellation."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

import pytest

from app.config.models_config import parse_models_config
from app.errors import ConfigError, PeerError
from app.router.provider.backends import (
    DONE,
    BackendError,
    BackendItem,
    OpenAIBackend,
    RequestStats,
    chat_completions_url,
    check,
)
from tests.support.openai_backend import Behaviour, OpenAIBackendServer

HISTORY = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Hi"},
    {"role": "assistant", "content": "Hello."},
    {"role": "user", "content": "Say hello to the world"},
]


@pytest.fixture
async def server() -> AsyncIterator[OpenAIBackendServer]:
    async with OpenAIBackendServer() as srv:
        yield srv


@pytest.fixture
async def backend(server: OpenAIBackendServer) -> AsyncIterator[OpenAIBackend]:
    async with OpenAIBackend("served-model", server.chat_url, timeout=5) as b:
        yield b


def chat(stream: bool = True, **extra: Any) -> dict[str, Any]:
    return {"model": "whatever-the-client-said", "messages": HISTORY, "stream": stream, **extra}


async def collect(
    backend: OpenAIBackend,
    request: dict[str, Any],
    stats: RequestStats | None = None,
    into: list[BackendItem] | None = None,
) -> list[BackendItem]:
    received = [] if into is None else into
    async with aclosing(backend.stream_chat(request, stats=stats)) as items:
        async for item in items:
            received.append(item)
    return received


def text_of(items: list[BackendItem]) -> str:
    return "".join(
        choice["delta"].get("content", "")
        for item in items
        if isinstance(item, dict)
        for choice in item.get("choices", [])
    )


async def test_stream_yields_each_chunk_in_order_then_done(backend: OpenAIBackend) -> None:
    items = await collect(backend, chat())

    assert items[-1] == DONE
    chunks = items[:-1]
    assert all(isinstance(c, dict) and c["object"] == "chat.completion.chunk" for c in chunks)
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant"}  # type: ignore[index]
    assert text_of(items) == "Hello, world!"
    assert chunks[-1]["choices"][0]["finish_reason"] == "stop"  # type: ignore[index]


async def test_backend_receives_full_history_and_configured_model_name(
    backend: OpenAIBackend, server: OpenAIBackendServer
) -> None:
    await collect(backend, chat(temperature=0.2))

    body = server.requests[0].body
    assert body["messages"] == HISTORY
    assert body["model"] == "served-model"
    assert body["temperature"] == 0.2


async def test_usage_is_requested_for_measuring_but_hidden_when_client_did_not_ask(
    backend: OpenAIBackend, server: OpenAIBackendServer
) -> None:
    stats = RequestStats()
    items = await collect(backend, chat(), stats)

    assert server.requests[0].body["stream_options"] == {"include_usage": True}
    assert not any(isinstance(i, dict) and "usage" in i for i in items)
    assert stats.usage_reported
    assert stats.output_tokens == 4


async def test_usage_chunk_is_forwarded_when_client_asked_for_it(backend: OpenAIBackend) -> None:
    items = await collect(backend, chat(stream_options={"include_usage": True}))

    usage_chunks = [i for i in items if isinstance(i, dict) and "usage" in i]
    assert len(usage_chunks) == 1
    assert usage_chunks[0]["choices"] == []
    assert usage_chunks[0]["usage"]["completion_tokens"] == 4
    assert items[-1] == DONE


async def test_tokens_are_counted_from_deltas_when_backend_reports_no_usage(
    backend: OpenAIBackend, server: OpenAIBackendServer
) -> None:
    server.behaviour = Behaviour(tokens=["a", "b", "c", "d", "e", "f"], usage=False, token_delay=0.01)
    stats = RequestStats()
    await collect(backend, chat(), stats)

    assert not stats.usage_reported
    assert stats.output_tokens == 6
    assert stats.ttft_ms is not None
    assert 0 < stats.ttft_ms < stats.wall_ms
    assert stats.wall_ms >= 50  # five 10 ms gaps between six tokens
    assert stats.tps == pytest.approx(6 / (stats.wall_ms / 1000))
    assert stats.finish_reason == "stop"


async def test_non_streaming_request_yields_one_whole_completion(
    backend: OpenAIBackend, server: OpenAIBackendServer
) -> None:
    stats = RequestStats()
    items = await collect(backend, chat(stream=False), stats)

    assert len(items) == 1
    completion = items[0]
    assert isinstance(completion, dict)
    assert completion["object"] == "chat.completion"
    assert completion["choices"][0]["message"]["content"] == "Hello, world!"
    assert "stream_options" not in server.requests[0].body
    assert stats.output_tokens == 4
    assert stats.finish_reason == "stop"


@pytest.mark.parametrize(
    "framing",
    [
        Behaviour(line_end="\r\n"),
        Behaviour(keepalive=True),
        Behaviour(split_writes=True),
        Behaviour(line_end="\r\n", keepalive=True, split_writes=True, tokens=["naïve ", "café ", "✓"]),
    ],
    ids=["crlf", "keepalive-comments", "events-split-across-reads", "all-with-multibyte-utf8"],
)
async def test_stream_parses_the_same_whatever_the_framing(
    backend: OpenAIBackend, server: OpenAIBackendServer, framing: Behaviour
) -> None:
    server.behaviour = framing
    items = await collect(backend, chat())

    assert text_of(items) == "".join(framing.tokens)
    assert items[-1] == DONE


@pytest.mark.parametrize("form", ["base_url", "chat_url"])
async def test_both_api_url_forms_reach_the_chat_endpoint(server: OpenAIBackendServer, form: str) -> None:
    async with OpenAIBackend("m", getattr(server, form)) as backend:
        items = await collect(backend, chat())

    assert backend.url == server.chat_url
    assert items[-1] == DONE


async def test_api_key_is_sent_as_bearer_token(server: OpenAIBackendServer) -> None:
    server.behaviour = Behaviour(api_key="sk-test-123")
    async with OpenAIBackend("m", server.base_url, "sk-test-123") as backend:
        items = await collect(backend, chat())

    assert server.requests[0].headers["Authorization"] == "Bearer sk-test-123"
    assert items[-1] == DONE


async def test_missing_api_key_surfaces_the_401_with_its_json(
    backend: OpenAIBackend, server: OpenAIBackendServer
) -> None:
    server.behaviour = Behaviour(api_key="sk-test-123")

    with pytest.raises(BackendError) as caught:
        await collect(backend, chat())

    assert caught.value.status == 401
    assert caught.value.body["error"]["message"] == "Invalid API key"
    assert "HTTP 401: Invalid API key" in caught.value.user_message


@pytest.mark.parametrize("status", [500, 429, 503])
async def test_http_error_carries_status_and_upstream_error_json(
    backend: OpenAIBackend, server: OpenAIBackendServer, status: int
) -> None:
    upstream = {"error": {"message": "model overloaded", "type": "server_error", "param": None, "code": None}}
    server.behaviour = Behaviour(fail_status=status, fail_body=upstream)

    with pytest.raises(BackendError) as caught:
        await collect(backend, chat())

    assert isinstance(caught.value, PeerError)
    assert caught.value.status == status
    assert caught.value.body == upstream
    assert f"HTTP {status}: model overloaded" in caught.value.user_message


async def test_stall_before_first_token_times_out_with_a_clear_error(server: OpenAIBackendServer) -> None:
    server.behaviour = Behaviour(stall=30)
    started = time.monotonic()
    async with OpenAIBackend("m", server.chat_url, timeout=0.3) as backend:
        with pytest.raises(BackendError, match=r"did not finish within 0.3 s \(LLM_TIMEOUT\)") as caught:
            await collect(backend, chat())

    assert time.monotonic() - started < 2
    assert caught.value.status is None
    await server.wait_disconnect()  # the backend is told to stop, too


async def test_connection_dropped_mid_stream_is_an_error_not_a_short_answer(
    backend: OpenAIBackend, server: OpenAIBackendServer
) -> None:
    server.behaviour = Behaviour(drop_after=2)
    received: list[BackendItem] = []

    with pytest.raises(BackendError, match="closed the connection mid-answer"):
        await collect(backend, chat(), into=received)

    assert text_of(received) == "Hello,"
    assert DONE not in received


async def test_error_event_mid_stream_is_raised_with_its_json(
    backend: OpenAIBackend, server: OpenAIBackendServer
) -> None:
    server.behaviour = Behaviour(error_after=2)
    received: list[BackendItem] = []

    with pytest.raises(BackendError, match="failed mid-answer: context window exceeded") as caught:
        await collect(backend, chat(), into=received)

    assert caught.value.body["error"]["type"] == "server_error"
    assert text_of(received) == "Hello,"


async def test_unreachable_backend_names_the_url_and_the_fix() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # The port is free now: nothing listens there.
    async with OpenAIBackend("m", f"http://127.0.0.1:{port}/v1") as backend:
        with pytest.raises(BackendError, match=f"cannot reach the LLM backend at http://127.0.0.1:{port}/v1/"):
            await collect(backend, chat())


async def test_cancelling_the_consumer_disconnects_from_the_backend_at_once(
    backend: OpenAIBackend, server: OpenAIBackendServer
) -> None:
    server.behaviour = Behaviour(tokens=["tok"] * 1000, token_delay=0.02)
    first_token = asyncio.Event()

    async def consume() -> None:
        async for item in backend.stream_chat(chat()):
            if isinstance(item, dict) and item["choices"][0]["delta"].get("content"):
                first_token.set()

    task = asyncio.create_task(consume())
    async with asyncio.timeout(2):
        await first_token.wait()
    cancelled_at = time.monotonic()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    record = await server.wait_disconnect(within=1)
    assert record.disconnected_at is not None
    # the 30 s stream would otherwise run on; a loaded 2-core CI box still disconnects well inside 2 s
    assert record.disconnected_at - cancelled_at < 2
    assert not record.completed
    assert record.tokens_sent < 100


async def test_consumer_that_stops_reading_early_disconnects_from_the_backend(
    backend: OpenAIBackend, server: OpenAIBackendServer
) -> None:
    server.behaviour = Behaviour(tokens=["tok"] * 1000, token_delay=0.02)
    async with aclosing(backend.stream_chat(chat())) as items:
        async for item in items:
            if isinstance(item, dict) and item["choices"][0]["delta"].get("content"):
                break

    record = await server.wait_disconnect(within=1)
    assert not record.completed


async def test_backend_is_reusable_after_a_failed_request(backend: OpenAIBackend, server: OpenAIBackendServer) -> None:
    server.behaviour = Behaviour(drop_after=1)
    with pytest.raises(BackendError):
        await collect(backend, chat())

    server.behaviour = Behaviour()
    assert (await collect(backend, chat()))[-1] == DONE


async def test_check_measures_ttft_and_tokens_per_second(server: OpenAIBackendServer) -> None:
    server.behaviour = Behaviour(tokens=["x"] * 5, token_delay=0.01)
    entry = {"modelId": "0x" + "ab" * 32, "modelName": "m", "apiType": "openai", "apiUrl": server.base_url}

    stats = await check(entry)

    assert stats.ttft_ms is not None
    assert stats.ttft_ms > 0
    assert stats.output_tokens == 5
    assert stats.tps > 0
    assert server.requests[0].body["max_tokens"] == 16


async def test_check_accepts_a_loaded_models_config_entry_and_sends_its_key(server: OpenAIBackendServer) -> None:
    server.behaviour = Behaviour(api_key="sk-from-config")
    config = parse_models_config(
        {
            "models": [
                {
                    "modelId": "0x" + "cd" * 32,
                    "modelName": "m",
                    "apiType": "openai",
                    "apiUrl": server.chat_url,
                    "apiKey": "sk-from-config",
                }
            ]
        },
        "models-config.json",
    )

    stats = await check(config.supported[0])

    assert stats.output_tokens == 4
    assert server.requests[0].headers["Authorization"] == "Bearer sk-from-config"


async def test_check_reports_backend_failure_as_backend_error(server: OpenAIBackendServer) -> None:
    server.behaviour = Behaviour(fail_status=500)
    async with OpenAIBackend("m", server.chat_url) as backend:
        with pytest.raises(BackendError, match="HTTP 500: backend failed on purpose"):
            await backend.check()


def test_model_config_entry_without_api_url_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="needs a modelName and an apiUrl"):
        OpenAIBackend.from_model_config({"modelName": "m"})


@pytest.mark.parametrize(
    ("api_url", "endpoint"),
    [
        ("http://h:8080/v1", "http://h:8080/v1/chat/completions"),
        ("http://h:8080/v1/", "http://h:8080/v1/chat/completions"),
        ("https://api.example/v1/chat/completions", "https://api.example/v1/chat/completions"),
        ("http://h:11434/custom/endpoint", "http://h:11434/custom/endpoint"),
    ],
)
def test_api_url_is_completed_only_when_it_names_the_v1_root(api_url: str, endpoint: str) -> None:
    assert chat_completions_url(api_url) == endpoint


@pytest.mark.parametrize("api_url", ["localhost:8080/v1", "ftp://h/v1", ""])
def test_api_url_that_is_not_http_is_a_config_error(api_url: str) -> None:
    with pytest.raises(ConfigError, match="is not an http\\(s\\) URL"):
        chat_completions_url(api_url)


def test_repr_never_shows_the_api_key() -> None:
    backend = OpenAIBackend("m", "http://h/v1", "sk-secret-value")
    assert "sk-secret-value" not in repr(backend)
