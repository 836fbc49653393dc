"""``eth_subscribe("logs")`` over a WebSocket (raw JSON-RPC on aiohttp), yielding logs shaped as eth_getLogs gives."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from contextlib import AsyncExitStack
from typing import Any

import aiohttp

from app.errors import ChainError

log = logging.getLogger(__name__)

_QUANTITIES = ("blockNumber", "logIndex", "transactionIndex")


def ws_url_for(url: str) -> str:
    """The WebSocket URL of an RPC endpoint: anvil, geth and most providers serve WS beside HTTP on one port."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ChainError(f"The RPC URL {url!r} has no scheme; use ws://host:port for subscriptions.")
    return {"http": "ws", "https": "wss"}.get(scheme.lower(), scheme.lower()) + "://" + rest


def _host(url: str) -> str:
    """Scheme and host only: RPC URLs often carry API keys in the path."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0].rsplit('@', 1)[-1]}"


def _as_log(raw: Any) -> dict[str, Any] | None:
    """A pushed log with hex quantities made ints (as our get_logs returns them); None for removed (reorged) logs."""
    if not isinstance(raw, dict) or raw.get("removed"):
        return None
    entry = dict(raw)
    for key in _QUANTITIES:
        value = entry.get(key)
        if isinstance(value, str):
            entry[key] = int(value, 16)
    return entry


class LogSubscription:
    """``async with LogSubscription(url, filters) as sub``: subscribed to every filter (``address`` + ``topics``)
    on one socket once entered; ``await sub.next()`` is the next matching log.

    Raises ChainError when the node cannot be reached, refuses a subscription, or the connection ends.
    """

    def __init__(self, url: str, filters: Sequence[dict[str, Any]], *, confirm_within_s: float = 10.0) -> None:
        self.url = url
        self.filters = list(filters)
        self.confirm_within_s = confirm_within_s
        self._stack = AsyncExitStack()
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self._ids: set[str] = set()
        self._early: list[dict[str, Any]] = []  # messages met while later subscriptions were being confirmed

    async def __aenter__(self) -> LogSubscription:
        try:
            http = await self._stack.enter_async_context(aiohttp.ClientSession())
            self._ws = await self._stack.enter_async_context(http.ws_connect(
                self.url, heartbeat=30.0, timeout=aiohttp.ClientWSTimeout(ws_close=self.confirm_within_s)))
            for request_id, params in enumerate(self.filters, start=1):
                await self._ws.send_str(json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "eth_subscribe",
                                                    "params": ["logs", params]}))
                self._ids.add(await self._confirmation(request_id))
        except BaseException as e:
            await self._stack.aclose()
            if isinstance(e, (aiohttp.ClientError, OSError, TimeoutError)):
                raise self._failed(e) from e
            raise
        log.info("subscribed to contract logs at %s", _host(self.url))
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self._stack.aclose()

    async def next(self) -> dict[str, Any]:
        """The next log pushed for one of our subscriptions."""
        while True:
            data = self._early.pop(0) if self._early else await self._receive(None)
            entry = _pushed(data, self._ids)
            if entry is not None:
                return entry

    def _failed(self, e: BaseException) -> ChainError:
        return ChainError(f"The log subscription at {_host(self.url)} failed: {type(e).__name__}: {e}")

    async def _receive(self, within_s: float | None) -> dict[str, Any]:
        assert self._ws is not None
        try:
            message = await self._ws.receive(timeout=within_s)
        except (aiohttp.ClientError, OSError, TimeoutError) as e:
            raise self._failed(e) from e
        if message.type != aiohttp.WSMsgType.TEXT:
            raise ChainError(f"The log subscription at {_host(self.url)} ended ({message.type.name.lower()}).")
        try:
            data = json.loads(message.data)
        except ValueError as e:
            raise ChainError(f"The node at {_host(self.url)} sent a message that is not JSON.") from e
        return data if isinstance(data, dict) else {}

    async def _confirmation(self, request_id: int) -> str:
        """The subscription id answered to ``request_id``."""
        while True:
            data = await self._receive(self.confirm_within_s)
            if data.get("id") != request_id:
                self._early.append(data)
                continue
            if data.get("error") or not isinstance(data.get("result"), str):
                raise ChainError(f"The node at {_host(self.url)} refused eth_subscribe: {data.get('error')}")
            return str(data["result"])


def _pushed(data: dict[str, Any], subscriptions: set[str]) -> dict[str, Any] | None:
    params = data.get("params")
    if data.get("method") != "eth_subscription" or not isinstance(params, dict):
        return None
    if params.get("subscription") not in subscriptions:
        return None
    return _as_log(params.get("result"))
