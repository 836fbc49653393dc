"""Closes every connection a web3 provider holds, including the aiohttp sessions web3 caches per event loop."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import aiohttp
from web3 import AsyncHTTPProvider

log = logging.getLogger(__name__)

# web3 8's AsyncHTTPProvider keeps one aiohttp ClientSession per (event loop, URL) in its HTTPSessionManager and
# replaces a session that is closed or whose loop died with a new one of its own. Handing it our own session
# (``cache_async_session``) would therefore not make us the only owner: any call from another loop, or after our
# session closed, gets a web3-made session again. So we let web3 create them and sweep its cache when we retire
# the provider, which closes ours and its alike.
_FOREIGN_LOOP_CLOSE_S = 5.0


def cached_sessions(provider: object) -> list[aiohttp.ClientSession]:
    """The aiohttp sessions an HTTP ``provider`` has cached so far (one per event loop that used it)."""
    if not isinstance(provider, AsyncHTTPProvider):
        return []
    cache = provider._request_session_manager.session_cache
    return [session for _, session in cache.items()]


async def close_provider(provider: Any) -> None:
    """Close what ``provider`` holds open: the cached HTTP sessions, or the socket of a persistent provider.

    Idempotent, and callable from a loop other than the one that opened a session.
    """
    if not isinstance(provider, AsyncHTTPProvider):
        await provider.disconnect()  # WebSocketProvider: one socket and one listener task, both on this loop
        return
    sessions = cached_sessions(provider)
    # Emptied first, so a session web3 creates meanwhile is a new entry for the next sweep, not one we skip.
    provider._request_session_manager.session_cache.clear()
    for session in sessions:
        await _close_session(session)
    # The manager's thread pool only serves web3's session lock; a retired provider has no use for its threads.
    provider._request_session_manager.session_pool.shutdown(wait=False)


async def _close_session(session: aiohttp.ClientSession) -> None:
    if session.closed:
        return
    owner: asyncio.AbstractEventLoop = session._loop  # aiohttp's public ``loop`` property is deprecated
    if owner is asyncio.get_running_loop() or owner.is_closed():
        # On a closed loop the sockets died with it: aiohttp then only marks the connector closed, which is
        # exactly what stops the "Unclosed client session" warning when the session is collected.
        await session.close()
    elif owner.is_running():
        # Transports belong to their loop's thread; close them there and wait a bounded time.
        future = asyncio.run_coroutine_threadsafe(session.close(), owner)
        try:
            await asyncio.wait_for(asyncio.wrap_future(future), _FOREIGN_LOOP_CLOSE_S)
        except TimeoutError:
            log.warning("an RPC session of another event loop did not close within %s s", _FOREIGN_LOOP_CLOSE_S)
    else:
        # A stopped (not closed) loop of some other code: awaiting its close() here would need that loop. Close the
        # connector synchronously instead; its transports are told to close when that loop runs again.
        connector = session.connector
        if connector is not None:
            connector._close()  # marks the connector (so the session) closed; no coroutine left un-awaited
