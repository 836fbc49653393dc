"""The provider's MOR-RPC TCP server: one request per connection, size and time caps, never crashes on input."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from app.errors import AppError
from app.router.morrpc.envelope import RpcRequest, encode_error, parse_request
from app.router.morrpc.exceptions import MorRpcProtocolError
from app.router.morrpc.framing import DEFAULT_MAX_MESSAGE_SIZE, MessageDecoder
from app.router.morrpc.rpc_errors import plaintext_error

__all__ = ["MorRpcServer", "RequestHandler", "Send", "parse_host_port"]

log = logging.getLogger(__name__)

Send = Callable[[bytes], Awaitable[None]]
"""Writes one encoded response object to the consumer (raises ConnectionError once it has gone)."""

_READ_SIZE = 64 * 1024
_KEEPALIVE_S = 10  # upstream's TCP keepalive period
_LINGER_S = 1.0
_LINGER_BYTES = 16 * 1024 * 1024


class RequestHandler(Protocol):
    """What the server hands each parsed request to (the controller)."""

    async def handle(self, request: RpcRequest, send: Send) -> None: ...


def now_ms() -> int:
    return int(time.time() * 1000)


def parse_host_port(address: str) -> tuple[str, int]:
    """``host:port`` (``PROXY_ADDRESS``; ``:3333`` and ``[::1]:3333`` too) → (host, port)."""
    host, sep, port = address.strip().rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise ValueError(f"{address!r} is not host:port")
    host = host.strip("[]") or "0.0.0.0"  # noqa: S104 - upstream's default listens on every interface
    return host, int(port)


def _set_keepalive(writer: asyncio.StreamWriter) -> None:
    sock = writer.get_extra_info("socket")
    if sock is None:
        return
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        for name in ("TCP_KEEPIDLE", "TCP_KEEPINTVL"):
            if hasattr(socket, name):
                sock.setsockopt(socket.IPPROTO_TCP, getattr(socket, name), _KEEPALIVE_S)


class MorRpcServer:
    """Accepts MOR-RPC connections and passes each connection's single request to ``handler``.

    Every connection: read one JSON object (at most ``max_message_size`` bytes; the first byte within
    ``first_byte_timeout`` s, the whole object within ``request_timeout`` s), hand it to the handler, close.
    A malformed request gets a plaintext error object, then the connection closes. When the consumer hangs
    up while its request is being served, the handler is cancelled at once (so the backend request stops).
    """

    def __init__(
        self,
        handler: RequestHandler,
        host: str = "0.0.0.0",  # noqa: S104 - the provider endpoint is public by design
        port: int = 3333,
        *,
        max_message_size: int = DEFAULT_MAX_MESSAGE_SIZE,
        first_byte_timeout: float = 10.0,
        request_timeout: float = 30.0,
        write_timeout: float = 60.0,
        max_connections: int = 1024,
    ) -> None:
        self._handler = handler
        self._host = host
        self._port = port
        self.max_message_size = max_message_size
        self.first_byte_timeout = first_byte_timeout
        self.request_timeout = request_timeout
        self.write_timeout = write_timeout
        self.max_connections = max_connections
        self._server: asyncio.Server | None = None
        self._connections: dict[asyncio.Task[Any], asyncio.StreamWriter] = {}
        self.served = 0  # requests handed to the handler (for status views and tests)

    @property
    def address(self) -> tuple[str, int]:
        """The bound (host, port); the real port after binding port 0."""
        if self._server is None or not self._server.sockets:
            raise RuntimeError("the MOR-RPC server is not started")
        name = self._server.sockets[0].getsockname()
        return str(name[0]), int(name[1])

    @property
    def connections(self) -> int:
        """Connections open right now."""
        return len(self._connections)

    @property
    def running(self) -> bool:
        return self._server is not None

    async def start(self) -> None:
        """Bind and listen; raises AppError naming the address when it is taken or not allowed."""
        try:
            self._server = await asyncio.start_server(self._on_connection, self._host, self._port, reuse_address=True)
        except OSError as e:
            raise AppError(
                f"Cannot listen for MOR-RPC on {self._host}:{self._port} ({e.strerror or e}); "
                "free the port or set PROXY_ADDRESS to another host:port."
            ) from e
        log.info("MOR-RPC server listening on %s:%d", *self.address)

    async def stop(self) -> None:
        """Stop listening, close every open connection and wait for their handlers to end."""
        server, self._server = self._server, None
        if server is not None:
            server.close()
        tasks = list(self._connections)
        for task, writer in list(self._connections.items()):
            task.cancel()
            writer.close()
        if tasks:
            await asyncio.wait(tasks, timeout=5)
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 5)

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        if len(self._connections) >= self.max_connections or self._server is None:
            writer.close()
            return
        self._connections[task] = writer
        peer = writer.get_extra_info("peername")
        try:
            _set_keepalive(writer)
            await self._serve(reader, writer)
        except asyncio.CancelledError:
            # stop() cancels us; ending quietly keeps asyncio's stream callback from logging the cancellation.
            pass
        except (ConnectionError, TimeoutError) as e:
            log.debug("MOR-RPC %s: connection ended: %r", peer, e)
        except Exception:  # the server must outlive any bug in one request
            log.exception("MOR-RPC %s: unexpected failure", peer)
        finally:
            self._connections.pop(task, None)
            writer.close()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(writer.wait_closed(), 1)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        async def send(data: bytes) -> None:
            writer.write(data)
            async with asyncio.timeout(self.write_timeout):
                await writer.drain()

        try:
            obj = await self._read_request(reader)
            if obj is None:
                return  # connected and left without a word (port scanners, reachability checks)
            request = parse_request(obj)
        except MorRpcProtocolError as e:
            await self._reply_error(send, "", e.user_message)
            await _linger(reader, writer)
            return
        self.served += 1
        await self._dispatch(request, reader, send)

    async def _read_request(self, reader: asyncio.StreamReader) -> dict[str, Any] | None:
        decoder = MessageDecoder(self.max_message_size)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.request_timeout
        first = True
        while True:
            wait = self.first_byte_timeout if first else deadline - loop.time()
            try:
                async with asyncio.timeout(max(wait, 0.0)):
                    data = await reader.read(_READ_SIZE)
            except TimeoutError:
                what = "No request" if first else "The rest of the request"
                raise MorRpcProtocolError(f"{what} arrived in time; send one JSON request per connection.") from None
            if not data:
                if decoder.has_partial:
                    raise MorRpcProtocolError("The request was cut off before its JSON object ended.")
                return None
            first = False
            objects = decoder.feed(data)
            if objects:
                return objects[0]  # one request per connection: anything after it is ignored

    async def _dispatch(self, request: RpcRequest, reader: asyncio.StreamReader, send: Send) -> None:
        work = asyncio.ensure_future(self._run_handler(request, send))
        hangup = asyncio.ensure_future(_wait_for_hangup(reader))
        try:
            done, _ = await asyncio.wait({work, hangup}, return_when=asyncio.FIRST_COMPLETED)
            if work not in done:
                log.debug("MOR-RPC request %s (%s): consumer hung up; cancelling", request.id, request.method)
                work.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await work
        finally:
            for task in (work, hangup):
                task.cancel()
            await asyncio.gather(work, hangup, return_exceptions=True)

    async def _run_handler(self, request: RpcRequest, send: Send) -> None:
        try:
            await self._handler.handle(request, send)
        except (ConnectionError, TimeoutError):
            raise
        except AppError as e:
            await self._reply_error(send, request.id, e.user_message)
        except Exception:
            log.exception("MOR-RPC request %s (%s) failed", request.id, request.method)
            await self._reply_error(send, request.id, "The provider failed to handle the request; try again later.")

    async def _reply_error(self, send: Send, request_id: str, message: str) -> None:
        with contextlib.suppress(ConnectionError, TimeoutError):
            await send(encode_error(request_id, plaintext_error(message, now_ms())))


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Half-close and drop what the peer is still sending (bounded), so closing does not reset the connection.

    Closing a socket with unread input sends RST, and the peer's kernel may then discard our error reply unread.
    """
    with contextlib.suppress(OSError, RuntimeError):
        if writer.can_write_eof():
            writer.write_eof()
    dropped = 0
    with contextlib.suppress(ConnectionError, TimeoutError):
        async with asyncio.timeout(_LINGER_S):
            while dropped < _LINGER_BYTES and (data := await reader.read(_READ_SIZE)):
                dropped += len(data)


async def _wait_for_hangup(reader: asyncio.StreamReader) -> None:
    """Return when the consumer closes its side; bytes it sends after its request are read and dropped."""
    with contextlib.suppress(ConnectionError):
        while await reader.read(_READ_SIZE):
            pass
