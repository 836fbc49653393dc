"""Serves the eth-tester chain over JSON-RPC on 127.0.0.1 (in its own process), so the app talks to it as to anvil."""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
from typing import Any

from aiohttp import web

from app.devnet.accounts import DEFAULT_CHAIN_ID
from app.devnet.chain_node import ChainNode
from app.devnet.tester_format import RpcError
from app.errors import DevnetError

log = logging.getLogger(__name__)

_MAX_BODY = 8 * 1024 * 1024  # contract deployments with large bytecode fit; nothing legitimate is bigger


class TesterRpcServer:
    """JSON-RPC over HTTP POST (single and batch requests) in front of a :class:`TesterChain`.

    py-evm is synchronous and slow-ish, so every call runs on one dedicated worker thread: the event loop
    never blocks and chain state is only ever touched by that one thread, in request order.
    """

    def __init__(self, chain_id: int) -> None:
        self.chain_id = chain_id
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="eth-tester")
        self._chain: Any = None
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def start(self) -> str:
        try:
            # py-evm import takes ~1 s: only when this engine is used. A broken install fails here.
            from app.devnet.tester_chain import TesterChain

            self._chain = await self._run(TesterChain, self.chain_id)
        except Exception as e:
            self._executor.shutdown(wait=False)
            raise DevnetError(
                f"The eth-tester chain could not start: {type(e).__name__}: {e}. Reinstall the app."
            ) from e
        app = web.Application(client_max_size=_MAX_BODY)
        app.router.add_post("/", self._handle_http)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        self.url = f"http://127.0.0.1:{port}"
        log.info("eth-tester chain %d served on %s (not persistent)", self.chain_id, self.url)
        return self.url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        await asyncio.to_thread(self._executor.shutdown, wait=True)

    async def _run(self, fn: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _handle_http(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
        except ValueError:
            return web.json_response(_error_reply(None, RpcError(-32700, "parse error")))
        if isinstance(body, list):
            if not body:
                return web.json_response(_error_reply(None, RpcError(-32600, "empty batch")))
            return web.json_response([await self._dispatch(item) for item in body])
        return web.json_response(await self._dispatch(body))

    async def _dispatch(self, request: Any) -> dict[str, Any]:
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            return _error_reply(None, RpcError(-32600, "invalid request"))
        request_id = request.get("id")
        params = request.get("params", [])
        if not isinstance(params, list):
            return _error_reply(request_id, RpcError(-32602, "params must be an array"))
        try:
            result = await self._run(self._chain.handle, request["method"], params)
        except RpcError as e:
            return _error_reply(request_id, e)
        except Exception as e:  # a bug in the bridge must not kill the server: answer and log it
            log.exception("eth-tester failed on %s", request["method"])
            return _error_reply(request_id, RpcError(-32603, f"internal error: {e}"))
        return {"jsonrpc": "2.0", "id": request_id, "result": result}


def _error_reply(request_id: Any, error: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": request_id, "error": error.to_json()}



async def start_in_process(*, chain_id: int = DEFAULT_CHAIN_ID) -> ChainNode:
    """The same chain served from this process: for tests that want a fresh chain without a child's ~0.7 s start.

    The app never uses it: py-evm would hold this process's GIL (the app starts the child, see tester_process).
    """
    server = TesterRpcServer(chain_id)
    url = await server.start()
    return ChainNode(url, chain_id, "eth-tester", persistent=False, _stopper=server.stop)
