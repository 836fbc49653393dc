"""Our provider served from its own event loop in a thread, so plain blocking sockets (and Hypothesis) can drive it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from app.chain.client import ChainClient
from app.chain.diamond import Diamond
from app.config.models_config import ModelsConfig
from app.router.provider.backend_pool import BackendPool
from app.router.provider.controller import ProviderController
from app.router.provider.server import MorRpcServer
from app.signer import Signer


@contextmanager
def provider_in_thread(
    signer: Signer, rpc_url: str, diamond: str, models: ModelsConfig, **server_options: object
) -> Iterator[MorRpcServer]:
    """Start the provider (real Diamond over ``rpc_url``) on 127.0.0.1:0 in a thread; stop it on exit."""
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, MorRpcServer] = {}
    failure: list[BaseException] = []
    stop = asyncio.Event()

    async def main() -> None:
        async with ChainClient([rpc_url], backoff=0.05) as client:
            pool = BackendPool(models, llm_timeout=5)
            controller = ProviderController(signer, Diamond(client, diamond), client, pool)
            server = MorRpcServer(controller, "127.0.0.1", 0, **server_options)  # type: ignore[arg-type]
            await client.connect()
            await server.start()
            holder["server"] = server
            ready.set()
            try:
                await stop.wait()
            finally:
                await server.stop()
                await pool.close()

    def run() -> None:
        try:
            loop.run_until_complete(main())
        except BaseException as e:  # surfaced to the test below
            failure.append(e)
        finally:
            ready.set()
            loop.close()

    thread = threading.Thread(target=run, name="provider-under-test", daemon=True)
    thread.start()
    ready.wait(20)
    if failure or "server" not in holder:
        raise RuntimeError("the provider did not start") from (failure[0] if failure else None)
    try:
        yield holder["server"]
    finally:
        loop.call_soon_threadsafe(stop.set)
        thread.join(10)
        assert not failure, failure
