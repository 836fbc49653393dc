"""OpenAI-compatible chat and the chat-history and proxy routes (spec §3.3)."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Any

from aiohttp import web

from app.config.models_config import ModelEntry
from app.errors import ApiError, PeerError, StorageError
from app.router.api import params as p
from app.router.api.context import ApiContext
from app.router.api.spec import Route
from app.router.consumer.client import Endpoint
from app.router.consumer.failover import ChunkItem, ControlItem
from app.router.provider.backend_pool import BackendPool
from app.router.provider.backends import DONE, BackendError
from app.storage.convert import chat_history, chat_list_item
from app.storage.records import check_chat_id

log = logging.getLogger(__name__)

ZERO32 = "0x" + "0" * 64
CHAT_HEADERS = ("session_id", "model_id", "chat_id")
POOL_KEY = web.AppKey("backend_pool", BackendPool)


def _endpoint(url: str, provider: str) -> Endpoint:
    try:
        return Endpoint.parse(url, provider)
    except PeerError as e:
        raise ApiError(f"field 'providerUrl' must be host:port, got {url!r:.80}") from e


def _header_id(request: web.Request, name: str) -> str | None:
    value = request.headers.get(name, "").strip()
    if not value:
        return None
    return "0x" + p.hex32(value, f"header {name!r}").hex()


def _messages(body: dict[str, Any]) -> list[dict[str, Any]]:
    messages = p.require(body, "messages")
    if not isinstance(messages, list) or not messages:
        raise ApiError("field 'messages' must be a non-empty list of {role, content} objects")
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or not isinstance(m.get("role"), str):
            raise ApiError(f"messages[{i}] must be an object with a string 'role'")
    return messages


def _local_entry(ctx: ApiContext, model_id: str | None, model_name: Any) -> ModelEntry | None:
    if model_id:
        return ctx.models.backend_for(model_id)
    if isinstance(model_name, str) and model_name:
        for entry in ctx.models.supported:
            if model_name in (entry.model_name, entry.model_id):
                return entry
    supported = ctx.models.supported
    return supported[0] if len(supported) == 1 and not model_name else None


def _sse(payload: Any) -> bytes:
    text = payload if isinstance(payload, str) else json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return f"data: {text}\n\n".encode()


async def _start_sse(request: web.Request) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache",
                                           "Access-Control-Allow-Origin": "*"})
    await response.prepare(request)
    return response


def _backend_error(e: BackendError) -> web.Response:
    # Upstream: 400 {"providerModelError": <backend JSON>}; later PR #797 passes 429/503 through.
    status = e.status if e.status in (429, 503) else 400
    body = e.body if e.body is not None else {"message": e.user_message}
    return web.json_response({"providerModelError": body}, status=status, headers={"Access-Control-Allow-Origin": "*"})


async def _ensure_chat(ctx: ApiContext, chat_id: str | None, title: str, model_id: str, local: bool) -> str | None:
    if not ctx.settings.proxy_store_chat_context:
        return chat_id
    storage = ctx.need_storage()
    if chat_id and await storage.run(storage.sync.chats.get_chat, chat_id) is not None:
        return chat_id
    chat = await storage.run(storage.sync.chats.create_chat, title, model_id, chat_id=chat_id, is_local=local)
    return chat.id


def _title(messages: list[dict[str, Any]]) -> str:
    for m in messages:
        content = m.get("content")
        if m.get("role") == "user" and isinstance(content, str) and content.strip():
            return content.strip().splitlines()[0][:80]
    return "Chat"


def _text_of(item: Any) -> str:
    if not isinstance(item, dict):
        return ""
    out = ""
    for choice in item.get("choices") or []:
        if isinstance(choice, dict):
            part = (choice.get("delta") or choice.get("message") or {}).get("content")
            if isinstance(part, str):
                out += part
    return out


async def chat_completions(ctx: ApiContext, request: web.Request) -> web.StreamResponse:
    """Route a chat request: a non-zero ``session_id`` (or an on-chain model with no local backend) goes to a
    provider through the consumer; otherwise the local backend configured for the model answers."""
    session_id, model_id, chat_id = (_header_id(request, n) for n in CHAT_HEADERS)
    body = await p.json_body(request)
    messages = _messages(body)
    if "stream" in body and not isinstance(body["stream"], bool):
        raise ApiError("field 'stream' must be true or false")
    streaming = bool(body.get("stream"))
    if session_id == ZERO32:
        session_id = None
    entry = None if session_id else _local_entry(ctx, model_id, body.get("model"))
    if entry is not None:
        return await _local_chat(ctx, request, entry, body, messages, chat_id, streaming)
    if session_id is None and model_id is None:
        raise ApiError("no local model matches this request: send a session_id header (open a session first), "
                       "a model_id header, or a 'model' configured in models-config.json")
    consumer = ctx.need_consumer()
    if chat_id:
        chat_id = await _ensure_chat(ctx, chat_id, _title(messages), model_id or ZERO32, False)
    params = {k: v for k, v in body.items() if k != "messages"}
    items = consumer.chat(messages=messages, chat_id=chat_id, session_id=session_id, model_id=model_id,
                          params=params)
    return await _relay(request, items, streaming)


async def _relay(request: web.Request, items: AsyncIterator[Any], streaming: bool) -> web.StreamResponse:
    async with aclosing(items) as gen:  # type: ignore[type-var]
        # Errors before the first item still get a proper status; after it they can only end the stream.
        first = await anext(gen, None)
        if not streaming:
            while isinstance(first, ControlItem):
                first = await anext(gen, None)
            data = first.data if isinstance(first, ChunkItem) else first
            if not isinstance(data, dict):
                raise ApiError("the provider sent no answer", 502)
            return web.json_response(data)
        response = await _start_sse(request)
        item: Any = first
        try:
            while item is not None:
                if isinstance(item, ControlItem):
                    await response.write(_sse(item.text))
                elif isinstance(item, ChunkItem) and item.data != DONE:
                    await response.write(_sse(item.data))
                item = await anext(gen, None)
        except Exception as e:
            log.warning("chat stream ended early: %s", e)
            message = getattr(e, "user_message", "the answer was cut off, see log")
            await response.write(_sse({"error": {"message": message}}))
        await response.write(_sse(DONE))
        await response.write_eof()
        return response


async def _local_chat(ctx: ApiContext, request: web.Request, entry: ModelEntry, body: dict[str, Any],
                      messages: list[dict[str, Any]], chat_id: str | None, streaming: bool) -> web.StreamResponse:
    backend = request.app[POOL_KEY].backend_for(entry)
    chat_key = await _ensure_chat(ctx, chat_id, _title(messages), entry.model_id, True)
    last = messages[-1]
    if chat_key and last.get("role") == "user" and isinstance(last.get("content"), str):
        storage = ctx.need_storage()
        await storage.run(storage.sync.chats.add_message, chat_key, "user", last["content"])
    answer = ""
    async with aclosing(backend.stream_chat(body)) as items:
        try:
            first = await anext(items, None)
        except BackendError as e:
            return _backend_error(e)
        if not streaming:
            answer = _text_of(first)
            await _store_answer(ctx, chat_key, answer)
            return web.json_response(first)
        response = await _start_sse(request)
        item: Any = first
        try:
            while item is not None:
                if item != DONE:
                    answer += _text_of(item)
                    await response.write(_sse(item))
                item = await anext(items, None)
        except BackendError as e:
            log.warning("local model stream failed: %s", e.user_message)
            await response.write(_sse({"error": {"message": e.user_message}}))
        await response.write(_sse(DONE))
        await response.write_eof()
    await _store_answer(ctx, chat_key, answer)
    return response


async def _store_answer(ctx: ApiContext, chat_key: str | None, answer: str) -> None:
    if chat_key and answer:
        storage = ctx.need_storage()
        await storage.run(storage.sync.chats.add_message, chat_key, "assistant", answer)


async def local_models(ctx: ApiContext, request: web.Request) -> web.Response:
    """Locally configured models: ``[{Id, Name, Model, ApiType, ApiUrl, Slots, CapacityPolicy}]``."""
    return web.json_response([
        {"Id": e.model_id, "Name": e.model_name, "Model": e.model_name, "ApiType": e.api_type,
         "ApiUrl": e.api_url, "Slots": e.concurrent_slots, "CapacityPolicy": e.capacity_policy}
        for e in ctx.models.supported
    ])


def _chat_id(request: web.Request) -> str:
    try:
        return check_chat_id(request.match_info.get("id", ""))
    except StorageError as e:
        raise ApiError(e.user_message) from e


async def list_chats(ctx: ApiContext, request: web.Request) -> web.Response:
    """Stored chats, newest first."""
    storage = ctx.need_storage()
    return web.json_response([chat_list_item(c) for c in await storage.run(storage.sync.chats.list_chats)])


async def get_chat(ctx: ApiContext, request: web.Request) -> web.Response:
    """One chat's turns."""
    chat_id = _chat_id(request)
    storage = ctx.need_storage()
    chat = await storage.run(storage.sync.chats.get_chat, chat_id)
    if chat is None:
        raise ApiError(f"no chat {chat_id}", 404)
    return web.json_response(chat_history(chat, await storage.run(storage.sync.chats.messages, chat_id)))


async def rename_chat(ctx: ApiContext, request: web.Request) -> web.Response:
    """Change a chat's title."""
    chat_id = _chat_id(request)
    body = await p.json_body(request)
    title = p.text_field(body, "title", max_len=200)
    storage = ctx.need_storage()
    if await storage.run(storage.sync.chats.get_chat, chat_id) is None:
        raise ApiError(f"no chat {chat_id}", 404)
    await storage.run(storage.sync.chats.update_chat, chat_id, title=title)
    return web.json_response({"result": True})


async def delete_chat(ctx: ApiContext, request: web.Request) -> web.Response:
    """Delete a chat."""
    chat_id = _chat_id(request)
    storage = ctx.need_storage()
    if not await storage.run(storage.sync.chats.delete_chat, chat_id):
        raise ApiError(f"no chat {chat_id}", 404)
    return web.json_response({"result": True})


async def ping_provider(ctx: ApiContext, request: web.Request) -> web.Response:
    """MOR-RPC ping of a provider: round trip in ms and its version (the pong's signer is checked)."""
    body = await p.json_body(request)
    provider = p.address(p.require(body, "providerAddr"), "field 'providerAddr'")
    url = p.text_field(body, "providerUrl", max_len=256)
    _endpoint(url, provider)
    result = await ctx.need_consumer().ping(provider, url)
    return web.json_response({"ping": round(result.rtt_ms), "version": result.version})


async def initiate_session(ctx: ApiContext, request: web.Request) -> web.Response:
    """Ask a provider for a session approval (nothing opened on chain); open it with POST /blockchain/sessions.

    Answers the provider's signed ``SessionRes`` (spec §4.4): ``message`` is its public key, ``signature`` its
    signature over the response, both checked before they are passed on.
    """
    body = await p.json_body(request)
    user = p.address(p.require(body, "user"), "field 'user'")
    provider = p.address(p.require(body, "provider"), "field 'provider'")
    spend = p.uint_field(body, "spend")
    url = p.text_field(body, "providerUrl", max_len=256)
    bid_id = p.hex32(p.require(body, "bidId"), "field 'bidId'")
    if user.lower() != ctx.wallet_address().lower():
        raise ApiError("field 'user' must be this node's wallet address (only it can sign the request)")
    consumer = ctx.need_consumer()
    grant = await consumer.client.request_session(_endpoint(url, provider), provider, bid_id, spend,
                                                  ctx.need_chain().chain_id)
    # The provider's SessionRes as it signed it (Go's encoding), so a caller can check the signature itself.
    return web.Response(body=grant.response.to_json(), content_type="application/json", charset="utf-8")


def setup_app(app: web.Application, ctx: ApiContext) -> None:
    """The local-model HTTP pool, closed with the app."""
    pool = BackendPool(ctx.models, llm_timeout=ctx.settings.llm_timeout.total_seconds())
    app[POOL_KEY] = pool

    async def close(_: web.Application) -> None:
        await pool.close()

    app.on_cleanup.append(close)


ROUTES = (
    Route("POST", "/v1/chat/completions", chat_completions, "chat", "chat",
          "OpenAI-compatible chat completion (SSE when stream=true)", body="ChatCompletionReq",
          response=None, response_type="text/event-stream", headers=CHAT_HEADERS),
    Route("GET", "/v1/models", local_models, "get_local_models", "chat", "Locally configured models",
          response="LocalModelsRes"),
    Route("GET", "/v1/chats", list_chats, "get_chat_history", "chat", "Stored chats", response="ChatsRes"),
    Route("GET", "/v1/chats/{id}", get_chat, "get_chat_history", "chat", "One chat's history",
          response="ChatHistoryRes"),
    Route("POST", "/v1/chats/{id}", rename_chat, "edit_chat_history", "chat", "Rename a chat",
          body="UpdateChatTitleReq", response="ResultRes"),
    Route("DELETE", "/v1/chats/{id}", delete_chat, "edit_chat_history", "chat", "Delete a chat",
          response="ResultRes"),
    Route("POST", "/proxy/provider/ping", ping_provider, None, "chat", "Ping a provider over MOR-RPC",
          body="PingReq", response="PingRes"),
    Route("POST", "/proxy/sessions/initiate", initiate_session, "initiate_session", "sessions",
          "Ask a provider for a session approval", body="InitiateSessionReq", response="SessionApprovalRes"),
)
