"""One API route: method, path, handler, permission (None = open) and what the OpenAPI document says about it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from app.router.api.context import ApiContext

RouteHandler = Callable[[ApiContext, web.Request], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Route:
    """A route as upstream registers it (``perm`` is the name given to ``CheckAuth``)."""

    method: str
    path: str
    handler: RouteHandler
    perm: str | None
    tag: str
    summary: str
    body: str | None = None
    """Schema name of the JSON request body (components/schemas)."""
    response: str | None = None
    """Schema name of the 200 response; None = described by ``response_type``."""
    response_type: str = "application/json"
    query: tuple[tuple[str, str, bool], ...] = ()
    """(name, type, required) query parameters."""
    headers: tuple[str, ...] = ()
    """Request headers that steer the route (session_id, model_id, chat_id)."""


PAGING = (("offset", "integer", False), ("limit", "integer", False), ("order", "string", False))
