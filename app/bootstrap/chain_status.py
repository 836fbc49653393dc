"""Polls the chain for the status bar: network, latest block, reachable or not."""

from __future__ import annotations

import asyncio
import logging

from app.chain.client import ChainClient
from app.errors import AppError
from app.events import ChainStatus, EventBus

log = logging.getLogger(__name__)


async def poll_chain_status(
    client: ChainClient, bus: EventBus, network: str, chain_id: int, interval: float = 4.0,
    answer_within: float = 8.0,
) -> None:
    """Publish a ChainStatus every ``interval`` seconds until cancelled; an outage is reported, never raised.

    An RPC that accepts connections but never answers keeps the client retrying for up to a minute; the status says
    "unreachable" once a poll has waited ``answer_within`` seconds. The call is not cancelled (the client's own
    retries run their course); later polls wait for that same call instead of piling up new ones.
    """
    was_reachable = True
    call: asyncio.Future[int] | None = None
    try:
        while True:
            if call is None:
                call = asyncio.ensure_future(client.block_number())
            done, _ = await asyncio.wait({call}, timeout=answer_within)
            block: int | None = None
            if not done:
                detail = (f"Cannot reach the chain RPC: it does not answer (timeout: no reply within "
                          f"{answer_within:g} s). Check that the node is running and its URL is right.")
            else:
                finished, call = call, None
                try:
                    block, detail = finished.result(), ""
                except AppError as e:
                    detail = e.user_message
            if block is None:
                if was_reachable:
                    log.warning("chain unreachable: %s", detail)
                was_reachable = False
                bus.publish(ChainStatus(network, chain_id, None, reachable=False, detail=detail))
            else:
                if not was_reachable:
                    log.info("chain reachable again at block %d", block)
                was_reachable = True
                bus.publish(ChainStatus(network, chain_id, block, reachable=True))
            await asyncio.sleep(interval)
    finally:
        if call is not None:
            call.cancel()  # the poller is stopping; the client shields the web3 call itself
