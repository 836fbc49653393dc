"""Wallet history for ``GET /blockchain/transactions`` from the Blockscout v2 API, mapped to the Go shape."""

from __future__ import annotations

from typing import Any

import aiohttp

from app.errors import ApiError

TIMEOUT = aiohttp.ClientTimeout(total=15)


def _addr(value: Any) -> str:
    if isinstance(value, dict):
        value = value.get("hash")
    return str(value or "").lower()


def _map_tx(item: dict[str, Any]) -> dict[str, Any]:
    decoded = item.get("decoded_input") or {}
    params = decoded.get("parameters") or []
    to = item.get("to") or {}
    return {
        "hash": item.get("hash", ""),
        "from": _addr(item.get("from")),
        "to": _addr(to),
        "timestamp": item.get("timestamp", ""),
        "contract": {
            "contractAddress": _addr(to) if to.get("is_contract") else "",
            "contractName": to.get("name") or "",
            "methodName": item.get("method") or "",
            "decodedInput": [{"key": x.get("name", ""), "type": x.get("type", ""), "value": x.get("value")}
                             for x in params if isinstance(x, dict)],
        },
        "transfers": [],
    }


def _map_transfer(item: dict[str, Any]) -> dict[str, Any]:
    token = item.get("token") or {}
    total = item.get("total") or {}
    decimals = total.get("decimals") or token.get("decimals") or "0"
    return {
        "from": _addr(item.get("from")),
        "to": _addr(item.get("to")),
        "value": str(total.get("value", "0")),
        "tokenAddress": str(token.get("address") or token.get("address_hash") or "").lower(),
        "tokenName": token.get("name") or "",
        "tokenSymbol": token.get("symbol") or "",
        "tokenDecimals": int(decimals) if str(decimals).isdigit() else 0,
        "tokenIcon": token.get("icon_url") or "",
    }


async def fetch_transactions(base_url: str, address: str, page: int, limit: int) -> list[dict[str, Any]]:
    """Transactions of ``address`` with their token transfers merged in, newest first (``page`` from 1)."""
    base = base_url.rstrip("/")
    try:
        async with aiohttp.ClientSession(timeout=TIMEOUT) as http:
            async with http.get(f"{base}/addresses/{address}/transactions") as resp:
                resp.raise_for_status()
                txs = (await resp.json()).get("items", [])
            async with http.get(f"{base}/addresses/{address}/token-transfers") as resp:
                resp.raise_for_status()
                transfers = (await resp.json()).get("items", [])
    except (aiohttp.ClientError, TimeoutError, ValueError, AttributeError) as e:
        raise ApiError(f"the block explorer at {base} could not be read ({type(e).__name__}); "
                       "check BLOCKSCOUT_API_URL", 502) from e
    by_hash: dict[str, dict[str, Any]] = {}
    for item in txs:
        if isinstance(item, dict):
            by_hash[item.get("hash", "")] = _map_tx(item)
    for item in transfers:
        if not isinstance(item, dict):
            continue
        tx_hash = item.get("transaction_hash") or item.get("tx_hash") or ""
        entry = by_hash.setdefault(tx_hash, {"hash": tx_hash, "from": _addr(item.get("from")),
                                             "to": _addr(item.get("to")), "timestamp": item.get("timestamp", ""),
                                             "contract": None, "transfers": []})
        entry["transfers"].append(_map_transfer(item))
    ordered = sorted(by_hash.values(), key=lambda t: str(t.get("timestamp", "")), reverse=True)
    start = (page - 1) * limit
    return ordered[start : start + limit]
