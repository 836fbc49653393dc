"""Middlewares: CORS as upstream, errors as ``{"error": …}`` (never a traceback), Basic auth + per-route permission."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Middleware

from app.errors import ApiError, AppError, ChainError, ConfigError, PeerError, StorageError, WalletError
from app.router.api.auth import ALL, AuthConfig

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Headers": "session_id, model_id, chat_id, Authorization, content-type",
    "Access-Control-Allow-Methods": "GET, POST, PUT, PATCH, DELETE, OPTIONS",
}
PERMISSION_KEY = web.AppKey("permissions", dict)
"""App key: {(METHOD, canonical path): permission name, or None for a route in :data:`PUBLIC_ROUTES`}."""
PUBLIC_ROUTES: frozenset[tuple[str, str]] = frozenset({
    # The Go router's routes without CheckAuth (its swagger.json lists them without BasicAuth)...
    ("GET", "/healthcheck"),
    ("GET", "/auth/cookie/path"),
    ("POST", "/auth/users/request"),
    ("POST", "/proxy/provider/ping"),
    # ...and its Swagger UI (gin serves /swagger/* before any auth): the viewer, its assets, openapi.json.
    ("GET", "/swagger"),
    ("GET", "/swagger/"),
    ("GET", "/swagger/{name}"),
})
"""The only (METHOD, canonical path) pairs served without credentials; every other route needs auth."""
USER_KEY = web.RequestKey("api_user", str)
"""Request key holding the authenticated user name."""

# Which status an AppError answers with when it is not an ApiError: the request was fine but the node or a peer
# could not do it (wallet missing → 409, chain/peer trouble → 502/400 as upstream answers most of them).
_STATUS: tuple[tuple[type[AppError], int], ...] = (
    (WalletError, 409),
    (ConfigError, 400),
    (StorageError, 400),
    (PeerError, 502),
    (ChainError, 400),
)


def error_response(message: str, status: int) -> web.Response:
    """``{"error": message}`` with ``status`` and the CORS headers."""
    return web.json_response({"error": message}, status=status, headers=CORS_HEADERS)


def status_of(error: AppError) -> int:
    """The HTTP status for ``error``."""
    if isinstance(error, ApiError):
        return error.status
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 400


@web.middleware
async def cors_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Answer CORS preflights and add the CORS headers to every response."""
    if request.method == "OPTIONS" and "Access-Control-Request-Method" in request.headers:
        return web.Response(status=204, headers=CORS_HEADERS)
    response = await handler(request)
    if not response.prepared:
        response.headers.update(CORS_HEADERS)
    return response


@web.middleware
async def error_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """AppError → its status and message; aiohttp's HTTP errors → JSON; anything else → 500, traceback in the log."""
    try:
        return await handler(request)
    except AppError as e:
        status = status_of(e)
        log.info("%s %s → %d: %s", request.method, request.path, status, e.user_message)
        return error_response(e.user_message, status)
    except web.HTTPRequestEntityTooLarge as e:
        return error_response(f"request body too large: {e.text}", 413)
    except web.HTTPException as e:
        if e.status < 400:
            raise
        return error_response(e.reason or "request failed", e.status)
    except Exception:
        log.exception("unexpected error in %s %s", request.method, request.path)
        return error_response("internal error, see log", 500)


def required_permission(table: dict[tuple[str, str], str | None], method: str, canonical: str) -> str | None:
    """The permission a request needs: None only for :data:`PUBLIC_ROUTES`; a route missing from ``table``
    (or one marked open there but not public) needs every permission (``*``, i.e. admin): fail closed."""
    # aiohttp answers HEAD on every GET route; it reveals what GET does, so it is guarded the same way.
    key = ("GET" if method == "HEAD" else method, canonical)
    if key in PUBLIC_ROUTES:
        return None
    perm = table.get(key)
    return perm if perm is not None else ALL


def _unauthorized() -> web.Response:
    response = error_response("unauthorized: send HTTP Basic credentials from the .cookie file or proxy.conf", 401)
    response.headers["WWW-Authenticate"] = 'Basic realm="morpheus-proxy-router"'
    return response


def auth_middleware(auth: AuthConfig) -> Middleware:
    """Basic auth then the route's permission: 401 without/with wrong credentials, 403 outside the whitelist.

    Fails closed: only :data:`PUBLIC_ROUTES` are open; a route the permission table does not know needs admin.
    """

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.match_info.http_exception is not None:
            # No route matched (404/405): aiohttp's handler only raises that error, no route code runs.
            return await handler(request)
        resource = request.match_info.route.resource
        canonical = resource.canonical if resource is not None else request.path
        permission = required_permission(request.app[PERMISSION_KEY], request.method, canonical)
        if permission is None:
            return await handler(request)
        user = auth.authenticate(request.headers.get("Authorization"))
        if user is None:
            return _unauthorized()
        if not auth.allowed(user, permission):
            return error_response("method not allowed", 403)
        request[USER_KEY] = user
        return await handler(request)

    return middleware
