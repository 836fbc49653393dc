"""Polls the chain for the status bar: network, latest block, reachable or not."""

from __future__ import annotations

import asyncio
import logging

from app.chain.client import ChainClient
from app.errors import AppError
from app.events import ChainStatus, EventBus

log = logging.getLogger(__name__)


async def poll_chain_status(
    client: ChainClient, bus: EventBus, network: str, chain_id: int, interval: float = 4.0
) -> None:
    """Publish a ChainStatus every ``interval`` seconds until cancelled; an outage is reported, never raised."""
    was_reachable = True
    while True:
        try:
            block = await client.block_number()
        except AppError as e:
            if was_reachable:
                log.warning("chain unreachable: %s", e.user_message)
            was_reachable = False
            bus.publish(ChainStatus(network, chain_id, None, reachable=False, detail=e.user_message))
        else:
            if not was_reachable:
                log.info("chain reachable again at block %d", block)
            was_reachable = True
            bus.publish(ChainStatus(network, chain_id, block, reachable=True))
        await asyncio.sleep(interval)
