"""A minimal JSON-RPC client for probing a devnet node (readiness, chain id) without building a Web3 object."""

from __future__ import annotations

import asyncio
import itertools
import time
from typing import Any

import aiohttp

from app.errors import DevnetError

_ids = itertools.count(1)


async def rpc_call(url: str, method: str, params: list[Any] | None = None, *, within: float = 10.0) -> Any:
    """Call ``method`` on ``url`` and return its result; a JSON-RPC error or a dead node raises DevnetError."""
    body = {"jsonrpc": "2.0", "id": next(_ids), "method": method, "params": params or []}
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=within)) as session,
            session.post(url, json=body) as response,
        ):
            reply = await response.json(content_type=None)
    except (aiohttp.ClientError, TimeoutError, ValueError) as e:
        raise DevnetError(f"The devnet node at {url} did not answer {method} ({e or type(e).__name__}).") from e
    if not isinstance(reply, dict):
        raise DevnetError(f"The devnet node at {url} answered {method} with something that is not JSON-RPC.")
    if "error" in reply:
        error = reply["error"]
        message = error.get("message") if isinstance(error, dict) else error
        raise DevnetError(f"The devnet node at {url} refused {method}: {message}")
    return reply.get("result")


async def wait_until_answering(url: str, *, within: float) -> int:
    """Poll ``eth_chainId`` until the node answers; returns the chain id or raises DevnetError on timeout."""
    deadline = time.monotonic() + within
    while True:
        try:
            return int(await rpc_call(url, "eth_chainId", within=2.0), 16)
        except DevnetError:
            if time.monotonic() > deadline:
                raise
        await asyncio.sleep(0.05)
