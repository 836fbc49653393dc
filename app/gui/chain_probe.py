"""Asks an RPC URL which chain it serves, so a typed URL is checked before it is saved."""

from __future__ import annotations

from app.chain.client import ChainClient


async def probe_chain_id(url: str) -> int:
    """Connect once to ``url`` and return its chain id (ChainError if it does not answer)."""
    client = ChainClient([url], timeout=8.0, retries=1)
    try:
        await client.connect()
        return client.chain_id
    finally:
        await client.close()
