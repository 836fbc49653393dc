"""ChainClient: AsyncWeb3 over a list of RPC URLs, with chain-id checks, retry/backoff, failover and health."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import aiohttp
from web3 import AsyncHTTPProvider, AsyncWeb3, WebSocketProvider
from web3.exceptions import (
    ContractLogicError,
    PersistentConnectionError,
    ProviderConnectionError,
    RequestTimedOut,
    TransactionNotFound,
    Web3RPCError,
)

from app.chain.errors import ChainUnreachableError, ContractRevertError, WrongChainError
from app.chain.http_sessions import close_provider
from app.chain.networks import chain_name
from app.chain.revert import decode_revert, revert_data_from
from app.errors import ChainError

log = logging.getLogger(__name__)
T = TypeVar("T")

# Failures that say "this endpoint is not answering" (worth another try or another URL), as opposed to an answer
# we do not like (a revert, a rejected tx), which is final.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    aiohttp.ClientError,
    TimeoutError,
    OSError,
    ProviderConnectionError,
    PersistentConnectionError,
    RequestTimedOut,
)

_CONNECT_ERRORS: tuple[type[BaseException], ...] = (*TRANSIENT_ERRORS, Web3RPCError, ValueError)


@dataclass(frozen=True)
class ChainHealth:
    """What the GUI's status bar shows: which RPC we use and whether it answers."""

    url: str | None
    reachable: bool
    chain_id: int | None
    last_error: str | None
    checked_at: float


def _redact(url: str) -> str:
    """RPC URLs often embed API keys in the path; show scheme and host only."""
    scheme, _, rest = url.partition("://")
    host = rest.split("/", 1)[0].rsplit("@", 1)[-1]
    return f"{scheme}://{host}" if rest else url


def _retrieve(task: asyncio.Future[Any]) -> None:
    if not task.cancelled():
        task.exception()  # an abandoned call's failure is not an error of anyone still waiting


async def _settle(tasks: set[asyncio.Task[Any]], limit_s: float) -> int:
    """Wait until ``tasks`` are done or ``limit_s`` passed (never cancelling them); return how many still run.

    Tasks of another (stopped) event loop can never finish here and are not waited for.
    """
    loop = asyncio.get_running_loop()
    ours = {task for task in tasks if task.get_loop() is loop and not task.done()}
    if not ours:
        return 0
    _, pending = await asyncio.wait(ours, timeout=limit_s)
    return len(pending)


class ChainClient:
    """One logical connection to a chain, backed by one or more RPC endpoints.

    Every operation goes through :meth:`request`, which retries transient failures with exponential backoff and
    moves to the next URL; each newly chosen URL is checked with ``eth_chainId`` before it is used.
    """

    def __init__(
        self,
        rpc_urls: Sequence[str],
        *,
        expected_chain_id: int | None = None,
        timeout: float = 10.0,
        retries: int = 3,
        backoff: float = 0.5,
        max_backoff: float = 5.0,
        close_wait: float = 5.0,
    ) -> None:
        urls = tuple(u.strip() for u in rpc_urls if u and u.strip())
        if not urls:
            raise ChainError("No RPC URL is configured: set ETH_NODE_ADDRESS or pick a network preset.")
        self.urls = urls
        self.expected_chain_id = expected_chain_id
        self._timeout = timeout
        self._retries = max(1, retries)
        self._backoff = backoff
        self._max_backoff = max_backoff
        self._close_wait = close_wait
        self._index = 0
        self._w3: AsyncWeb3[Any] | None = None
        self._closed = False
        # Every provider we opened and have not closed yet (the current one, and ones failed over from).
        self._live: list[AsyncWeb3[Any]] = []
        # Chain calls still running although their caller may be gone (see _shielded), and the background closes
        # of providers we moved away from: close() waits for both, so no session outlives the client.
        self._calls: set[asyncio.Task[Any]] = set()
        self._retiring: set[asyncio.Task[None]] = set()
        self._chain_id: int | None = None
        self._connect_lock = asyncio.Lock()
        self._health = ChainHealth(None, False, None, "not connected yet", time.time())
        self.health_listeners: list[Callable[[ChainHealth], None]] = []

    # -- connection -------------------------------------------------------------------------------------------

    @property
    def health(self) -> ChainHealth:
        return self._health

    @property
    def reachable(self) -> bool:
        return self._health.reachable

    @property
    def url(self) -> str:
        return self.urls[self._index]

    @property
    def chain_id(self) -> int:
        if self._chain_id is None:
            raise ChainError("The chain client is not connected yet: call connect() first.")
        return self._chain_id

    @property
    def w3(self) -> AsyncWeb3[Any]:
        if self._w3 is None:
            raise ChainError("The chain client is not connected yet: call connect() first.")
        return self._w3

    def _set_health(self, reachable: bool, error: str | None) -> None:
        self._health = ChainHealth(self.url if reachable else None, reachable, self._chain_id, error, time.time())
        for listener in list(self.health_listeners):
            try:
                listener(self._health)
            except Exception:  # a broken listener must not break the chain client
                log.exception("chain health listener failed")

    async def _open(self, url: str) -> AsyncWeb3[Any]:
        if url.startswith(("ws://", "wss://")):
            w3: AsyncWeb3[Any] = AsyncWeb3(WebSocketProvider(url, request_timeout=self._timeout))
            await w3.provider.connect()
        else:
            provider = AsyncHTTPProvider(
                url,
                request_kwargs={"timeout": aiohttp.ClientTimeout(total=self._timeout)},
                exception_retry_configuration=None,  # we retry ourselves, across URLs
            )
            w3 = AsyncWeb3(provider)
        w3.middleware_onion.clear()  # plain dicts, and no hidden extra RPC round trips
        self._live.append(w3)
        return w3

    async def _dispose(self, w3: AsyncWeb3[Any] | None) -> None:
        """Close ``w3``'s connections now (a no-op the second time)."""
        if w3 is None or w3 not in self._live:
            return
        self._live.remove(w3)
        try:
            await close_provider(w3.provider)
        except Exception:  # closing a dead connection may fail in many ways; nothing to do about it
            log.debug("closing an RPC connection failed", exc_info=True)

    def _retire(self, w3: AsyncWeb3[Any] | None) -> None:
        """Close ``w3`` once the calls that may still be using it are done, without making the caller wait.

        Closing it at once would fail those calls, and web3 would open a fresh cached session for any of them still
        waiting for its session lock: a session nobody closes.
        """
        if w3 is None:
            return
        users = set(self._calls)

        async def close_when_unused() -> None:
            # A call ends by its own request timeout; the margin covers the wait for web3's session lock.
            await _settle(users, self._timeout + 1.0)
            await self._dispose(w3)

        task = asyncio.create_task(close_when_unused(), name="chain-client-retire")
        self._retiring.add(task)
        task.add_done_callback(self._retiring.discard)
        task.add_done_callback(_retrieve)

    async def _shielded(self, coro: Awaitable[T]) -> T:
        """Await ``coro`` so that cancelling the caller does not cancel the web3 call itself.

        web3's async HTTP provider takes a process-wide threading.Lock through an executor around every request; a
        request cancelled at the wrong moment leaves that lock held for good, and every later RPC call of the
        process then hangs. Letting the call finish in the background (its result dropped) keeps the lock
        balanced; the client keeps the task so that close() can wait for it before closing the sessions it uses.
        """
        task = asyncio.ensure_future(coro)
        self._calls.add(task)
        task.add_done_callback(self._calls.discard)
        task.add_done_callback(_retrieve)
        return await asyncio.shield(task)

    async def _try_url(self, index: int) -> AsyncWeb3[Any]:
        url = self.urls[index]
        w3 = await self._open(url)
        try:
            actual = int(await w3.eth.chain_id)
        except BaseException:
            await self._dispose(w3)
            raise
        if self.expected_chain_id is not None and actual != self.expected_chain_id:
            await self._dispose(w3)
            want = chain_name(self.expected_chain_id)
            raise WrongChainError(
                f"RPC {_redact(url)} is {chain_name(actual)} (chain id {actual}), expected {self.expected_chain_id} "
                f"({want}): pick an RPC URL for {want}.",
                url=url,
                actual=actual,
                expected=self.expected_chain_id,
            )
        self._chain_id = actual
        return w3

    async def connect(self) -> None:
        """Connect to the first URL that answers with the expected chain id (raises if none does).

        Also reopens a closed client.
        """
        async with self._connect_lock:
            self._closed = False
            await self._shielded(self._connect_locked(start=self._index))

    async def _connect_locked(self, start: int) -> None:
        wrong: WrongChainError | None = None
        reasons: list[str] = []
        for step in range(len(self.urls)):
            index = (start + step) % len(self.urls)
            try:
                w3 = await self._try_url(index)
            except WrongChainError as e:
                wrong = wrong or e
                reasons.append(e.user_message)
                continue
            except _CONNECT_ERRORS as e:
                reasons.append(f"{_redact(self.urls[index])}: {type(e).__name__}: {e}")
                continue
            if self._closed:  # close() ran while we were connecting: this connection is not wanted any more
                await self._dispose(w3)
                raise self._closed_error()
            old, self._w3, self._index = self._w3, w3, index
            self._retire(old)
            self._set_health(True, None)
            log.info("connected to %s (chain id %s)", _redact(self.url), self._chain_id)
            return
        if wrong is not None and len(self.urls) == 1:
            self._set_health(False, wrong.user_message)
            raise wrong
        self._set_health(False, "; ".join(reasons))
        raise self._unreachable("; ".join(reasons)) from wrong

    def _unreachable(self, reason: str) -> ChainUnreachableError:
        shown = ", ".join(_redact(u) for u in self.urls)
        return ChainUnreachableError(
            f"Cannot reach the chain RPC at {shown} ({reason}). Check the URL and your network connection, or set "
            "ETH_NODE_ADDRESS to another RPC endpoint for this network.",
            urls=self.urls,
        )

    def _closed_error(self) -> ChainError:
        return ChainError(
            "The chain connection was closed (the app is stopping or switching networks): connect again to use it."
        )

    async def close(self) -> None:
        """Stop using the chain: let calls in flight finish (up to ``close_wait`` s), then close every connection.

        Connections opened on another event loop are closed too, even if that loop has ended. Safe to call more
        than once; calls made after it raise a ChainError until :meth:`connect` is called again.
        """
        self._closed = True
        self._w3 = None
        still_running = await _settle(self._calls | self._retiring, self._close_wait)
        if still_running:
            log.warning("%d chain call(s) still running after %.1f s; closing their connections", still_running,
                        self._close_wait)
        for w3 in list(self._live):
            await self._dispose(w3)
        loop = asyncio.get_running_loop()
        retiring = [task for task in self._retiring if task.get_loop() is loop]
        self._retiring.clear()  # those of an ended loop never run again; their providers were closed above
        for task in retiring:
            task.cancel()  # their provider is closed above; what is left of them is waiting for stragglers
        await asyncio.gather(*retiring, return_exceptions=True)
        self._set_health(False, "closed")

    async def __aenter__(self) -> ChainClient:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- the request pipeline ---------------------------------------------------------------------------------

    async def request(self, op: Callable[[AsyncWeb3[Any]], Awaitable[T]], *, raw_errors: bool = False) -> T:
        """Run ``op`` against the current endpoint; on a transient failure back off, fail over and retry.

        An error answer from the node becomes a ChainError quoting it, unless ``raw_errors`` (callers that decode
        reverts or rejections themselves).
        """
        delay = self._backoff
        last: BaseException | None = None
        for attempt in range(self._retries):
            try:
                if self._w3 is None:
                    async with self._connect_lock:
                        if self._closed:
                            raise self._closed_error()
                        if self._w3 is None:
                            await self._shielded(self._connect_locked(start=self._index))
                result = await self._shielded(op(self.w3))
            except ChainUnreachableError as e:
                last = e
            except (Web3RPCError, ContractLogicError) as e:
                if raw_errors or isinstance(e, TransactionNotFound):
                    raise
                raise ChainError(f"The RPC node {_redact(self.url)} answered with an error: {rpc_message(e)}") from e
            except TRANSIENT_ERRORS as e:
                last = e
                log.warning("RPC %s failed (%s: %s); failing over", _redact(self.url), type(e).__name__, e)
                failed, self._w3 = self._w3, None
                self._index = (self._index + 1) % len(self.urls)
                self._retire(failed)
                self._set_health(False, f"{type(e).__name__}: {e}")
            else:
                if not self._health.reachable:
                    self._set_health(True, None)
                return result
            if attempt + 1 < self._retries:
                await asyncio.sleep(delay)
                delay = min(delay * 2, self._max_backoff)
        if isinstance(last, ChainUnreachableError):
            raise last
        raise self._unreachable(f"{type(last).__name__}: {last}") from last

    # -- typed reads ------------------------------------------------------------------------------------------

    async def block_number(self) -> int:
        return int(await self.request(lambda w3: w3.eth.block_number))

    async def get_block(self, block: int | str = "latest") -> dict[str, Any]:
        return dict(await self.request(lambda w3: w3.eth.get_block(block)))  # type: ignore[arg-type]

    async def block_timestamp(self, block: int | str = "latest") -> int:
        return int((await self.get_block(block))["timestamp"])

    async def get_balance(self, address: str, block: int | str = "latest") -> int:
        return int(await self.request(lambda w3: w3.eth.get_balance(address, block)))  # type: ignore[arg-type]

    async def get_code(self, address: str) -> bytes:
        return bytes(await self.request(lambda w3: w3.eth.get_code(address)))  # type: ignore[arg-type]

    async def get_transaction_count(self, address: str, block: str = "pending") -> int:
        return int(await self.request(lambda w3: w3.eth.get_transaction_count(address, block)))  # type: ignore[arg-type]

    async def gas_price(self) -> int:
        return int(await self.request(lambda w3: w3.eth.gas_price))

    async def max_priority_fee(self) -> int:
        return int(await self.request(lambda w3: w3.eth.max_priority_fee))

    async def get_logs(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        logs = await self.request(lambda w3: w3.eth.get_logs(params))  # type: ignore[arg-type]
        return [dict(entry) for entry in logs]

    async def get_transaction_receipt(self, tx_hash: str) -> dict[str, Any] | None:
        async def op(w3: AsyncWeb3[Any]) -> dict[str, Any] | None:
            try:
                return dict(await w3.eth.get_transaction_receipt(tx_hash))  # type: ignore[arg-type]
            except TransactionNotFound:
                return None

        return await self.request(op)

    async def rpc(self, method: str, params: list[Any] | None = None) -> Any:
        """A raw JSON-RPC call (e.g. ``evm_increaseTime``); an error answer becomes a ChainError."""

        async def op(w3: AsyncWeb3[Any]) -> Any:
            response = await w3.provider.make_request(method, params or [])
            if response.get("error"):
                raise ChainError(f"The node refused {method}: {response['error']}")
            return response.get("result")

        return await self.request(op)

    # -- calls that may revert --------------------------------------------------------------------------------

    async def call(
        self, to: str, data: bytes, *, block: int | str = "latest", sender: str | None = None, context: str = ""
    ) -> bytes:
        """``eth_call``; a revert is raised as a decoded ContractRevertError."""
        tx: dict[str, Any] = {"to": to, "data": data}
        if sender:
            tx["from"] = sender
        try:
            return bytes(await self.request(lambda w3: w3.eth.call(tx, block), raw_errors=True))  # type: ignore[arg-type]
        except (ContractLogicError, Web3RPCError) as e:
            raise self.revert_error(e, context) from e

    async def estimate_gas(self, tx: dict[str, Any], context: str = "", *, block: int | str = "pending") -> int:
        """``eth_estimateGas`` against ``block``; a revert is raised as a decoded ContractRevertError.

        The default is the pending block, the one the transaction will be mined in: web3 would estimate against
        "latest", whose timestamp may be long gone (time-dependent contract paths such as closeSession then cost
        more than estimated and run out of gas). A node that refuses "pending" is asked about "latest" instead.
        """
        try:
            return int(await self.request(lambda w3: w3.eth.estimate_gas(tx, block), raw_errors=True))  # type: ignore[arg-type]
        except (ContractLogicError, Web3RPCError) as e:
            error = self.revert_error(e, context)
            if block != "pending" or isinstance(error, ContractRevertError):
                raise error from e
            log.info("the node refused a gas estimate on the pending block (%s); using latest", rpc_message(e))
        return await self.estimate_gas(tx, context, block="latest")

    @staticmethod
    def revert_error(e: Exception, context: str = "") -> ChainError:
        """Map a web3 call error to a decoded revert, or to a ChainError quoting the node."""
        data = revert_data_from(getattr(e, "data", None))
        if data is None and isinstance(e, Web3RPCError) and isinstance(e.rpc_response, dict):
            error = e.rpc_response.get("error")
            data = revert_data_from(error.get("data") if isinstance(error, dict) else None)
        if data is not None or isinstance(e, ContractLogicError):
            return decode_revert(data or b"", context)
        prefix = f"{context} failed: " if context else ""
        return ChainError(f"{prefix}the node refused the call: {rpc_message(e)}")


def rpc_message(e: Exception) -> str:
    """The node's own error text (web3 stringifies the whole JSON-RPC error object)."""
    response = getattr(e, "rpc_response", None)
    error = response.get("error") if isinstance(response, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return str(getattr(e, "message", None) or e)
