"""The HTTP API server: builds the aiohttp app from an :class:`ApiContext` and serves it on WEB_ADDRESS."""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence

from aiohttp import web

from app.errors import ConfigError
from app.router.api import routes_blockchain, routes_chat, routes_system, swagger
from app.router.api.context import ApiContext
from app.router.api.middleware import PERMISSION_KEY, auth_middleware, cors_middleware, error_middleware
from app.router.api.spec import Route

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 4 * 1024 * 1024
"""Bigger request bodies get 413 (long chats with history fit comfortably)."""

ROUTES: tuple[Route, ...] = routes_system.ROUTES + routes_blockchain.ROUTES + routes_chat.ROUTES
_ANY = ("0.0.0.0", "::")  # noqa: S104 - only compared, to print a reachable URL
CTX_KEY = web.AppKey("api_context", ApiContext)


def _bind(route: Route, ctx: ApiContext) -> web.RouteDef:
    async def handler(request: web.Request) -> web.StreamResponse:
        return await route.handler(ctx, request)

    functools.update_wrapper(handler, route.handler)
    return web.route(route.method, route.path, handler)


def build_app(ctx: ApiContext, routes: Sequence[Route] = ROUTES, *, client_max_size: int = MAX_BODY_BYTES
              ) -> web.Application:
    """The aiohttp application: middlewares (CORS → errors → auth), every route, Swagger UI and the document."""
    app = web.Application(
        middlewares=[cors_middleware, error_middleware, auth_middleware(ctx.auth)], client_max_size=client_max_size
    )
    app[CTX_KEY] = ctx
    app[PERMISSION_KEY] = {(r.method, r.path): r.perm for r in routes}
    routes_system.setup_app(app)
    routes_chat.setup_app(app, ctx)
    app.add_routes([_bind(r, ctx) for r in routes])
    swagger.add_routes(app)
    return app


def parse_host_port(address: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` too) → (host, port); ConfigError when malformed."""
    host, sep, port = address.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) < 65536:
        raise ConfigError(f"WEB_ADDRESS {address!r} must be host:port, e.g. 127.0.0.1:8082.")
    if not host.strip("[]"):
        raise ConfigError(f"WEB_ADDRESS {address!r} needs a host, e.g. 127.0.0.1:8082 (loopback only).")
    return host.strip("[]"), int(port)


class ApiServer:
    """Runs :func:`build_app` on ``address`` (WEB_ADDRESS); port 0 picks a free port (see :attr:`port`)."""

    def __init__(self, ctx: ApiContext, address: str | None = None) -> None:
        self.ctx = ctx
        self.host, self._requested_port = parse_host_port(address or ctx.settings.web_address)
        self.app = build_app(ctx)
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        """``http://host:port`` of the running server."""
        host = "127.0.0.1" if self.host in _ANY else self.host
        return f"http://{host}:{self.port}"

    async def start(self) -> None:
        """Listen; ConfigError if the address is taken or not allowed."""
        runner = web.AppRunner(self.app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self._requested_port)
        try:
            await site.start()
        except OSError as e:
            await runner.cleanup()
            raise ConfigError(f"Cannot listen on {self.host}:{self._requested_port} for the HTTP API "
                              f"({e.strerror}); set WEB_ADDRESS to a free host:port.") from e
        self._runner = runner
        server = site._server  # aiohttp keeps the asyncio server here; the only way to learn port 0's choice
        sockets = getattr(server, "sockets", None) or []
        self.port = sockets[0].getsockname()[1] if sockets else self._requested_port
        if self.host not in ("127.0.0.1", "localhost", "::1"):
            log.warning("the HTTP API listens on %s: it must not be reachable from the internet", self.host)
        log.info("HTTP API on %s (Swagger UI at %s/swagger/index.html)", self.url, self.url)

    async def stop(self) -> None:
        """Stop listening and close the app (in-flight requests are cancelled)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
