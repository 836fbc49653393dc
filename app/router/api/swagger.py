"""Swagger UI at ``/swagger/index.html`` and the OpenAPI document, served from resources/openapi/ (no CDN)."""

from __future__ import annotations

import mimetypes
import re

from aiohttp import web

from app.errors import ApiError
from app.paths import resources_dir

PREFIX = "/swagger"
_ASSET = re.compile(r"^[A-Za-z0-9_.\-]+$")


def add_routes(app: web.Application) -> None:
    """Register the open ``/swagger`` routes: the viewer page, its assets and ``openapi.json``."""
    folder = resources_dir() / "openapi"

    async def redirect(request: web.Request) -> web.StreamResponse:
        raise web.HTTPFound(f"{PREFIX}/index.html")

    async def asset(request: web.Request) -> web.StreamResponse:
        name = request.match_info["name"]
        # Only plain file names from the folder: no path separators, no dot-dot.
        if not _ASSET.match(name) or name.startswith("."):
            raise ApiError(f"no such file {name!r}", 404)
        path = folder / name
        if not path.is_file():
            raise ApiError(f"no such file {name!r}", 404)
        content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return web.FileResponse(path, headers={"Content-Type": content_type, "Cache-Control": "no-cache"})

    app.router.add_get(PREFIX, redirect)
    app.router.add_get(PREFIX + "/", redirect)
    app.router.add_get(PREFIX + "/{name}", asset)
