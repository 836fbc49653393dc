"""Helpers for devnet tests: raw JSON-RPC calls that keep the error object, receipt polling, pid checks."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from app.devnet.anvil import find_anvil

ANVIL = find_anvil()
needs_anvil = pytest.mark.skipif(ANVIL is None, reason="anvil not installed (set ANVIL_PATH)")


async def rpc(url: str, method: str, *params: Any) -> dict[str, Any]:
    """The whole JSON-RPC reply (result or error object) for one call."""
    body = {"jsonrpc": "2.0", "id": 1, "method": method, "params": list(params)}
    async with aiohttp.ClientSession() as session, session.post(url, json=body) as response:
        reply: dict[str, Any] = await response.json(content_type=None)
        return reply


async def result(url: str, method: str, *params: Any) -> Any:
    reply = await rpc(url, method, *params)
    assert "error" not in reply, reply
    return reply["result"]


async def wait_receipt(url: str, tx_hash: str, within: float = 10.0) -> dict[str, Any]:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        receipt = await result(url, "eth_getTransactionReceipt", tx_hash)
        if receipt is not None:
            return dict(receipt)
        await asyncio.sleep(0.02)
    raise AssertionError(f"no receipt for {tx_hash}")


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # A zombie still answers kill(0); it is gone for our purposes once it no longer runs.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:  # reaped between the two looks (or no /proc): not running
        return False


def gone_within(pid: int, within: float = 10.0) -> bool:
    """Poll until ``pid`` no longer runs (True) or ``within`` seconds pass (False)."""
    deadline = time.monotonic() + within
    while pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return not pid_alive(pid)
