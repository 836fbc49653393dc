"""The API's auth fails closed: only the Go router's open routes (and its Swagger UI) answer without credentials."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from app.config.models_config import ModelsConfig
from app.config.settings import Settings
from app.router.api.auth import AuthConfig
from app.router.api.context import ApiContext
from app.router.api.middleware import PERMISSION_KEY, PUBLIC_ROUTES
from app.router.api.server import ROUTES, build_app
from app.storage.store import AsyncStorage
from tests.router.api.api_env import OfflineNode, basic

# The routes upstream's swagger.json lists without BasicAuth, and gin's /swagger/* (proxy-router-spec §3.1).
UPSTREAM_UNAUTHENTICATED = {
    ("GET", "/healthcheck"),
    ("GET", "/auth/cookie/path"),
    ("POST", "/auth/users/request"),
    ("POST", "/proxy/provider/ping"),
}
SWAGGER_UI = {("GET", "/swagger"), ("GET", "/swagger/"), ("GET", "/swagger/{name}")}


async def _unlisted(request: web.Request) -> web.Response:
    return web.json_response({"secret": "reached"})


@asynccontextmanager
async def _api(folder: Path, extra: list[web.RouteDef]
               ) -> AsyncIterator[tuple[TestClient[web.Request, web.Application], AuthConfig, web.Application]]:
    """The real app (every route, the real middlewares) plus ``extra`` routes registered without a table entry."""
    auth = AuthConfig.load(folder / ".cookie", folder / "proxy.conf")
    storage = await AsyncStorage.open(folder / "node.sqlite3")
    ctx = ApiContext(node=OfflineNode(storage), settings=Settings(base_dir=folder), models=ModelsConfig(), auth=auth)
    app = build_app(ctx)
    app.add_routes(extra)
    client = TestClient(TestServer(app, host="127.0.0.1", port=0))
    await client.start_server()
    try:
        yield client, auth, app
    finally:
        await client.close()
        await storage.close()


def _registered(app: web.Application) -> set[tuple[str, str]]:
    """(METHOD, canonical path) of every route aiohttp will dispatch to (HEAD is GET's twin)."""
    return {(r.method, r.resource.canonical) for r in app.router.routes()
            if r.resource is not None and r.method != "HEAD"}


async def test_a_route_missing_from_the_permission_table_answers_401_without_credentials(tmp_path: Path) -> None:
    async with _api(tmp_path, [web.get("/new/feature", _unlisted), web.post("/new/feature", _unlisted)]) as (
            client, _auth, _app):
        for method in ("GET", "POST", "HEAD"):
            res = await client.request(method, "/new/feature")
            assert res.status == 401, method
            assert res.headers["WWW-Authenticate"].startswith("Basic")
        body = await (await client.get("/new/feature")).json()
        assert "unauthorized" in body["error"] and "secret" not in body


async def test_a_route_missing_from_the_table_needs_admin_not_just_any_user(tmp_path: Path) -> None:
    async with _api(tmp_path, [web.get("/new/feature", _unlisted)]) as (client, auth, _app):
        auth.add_user("chatter", "chatter-pw", ["chat", "get_balance"])
        limited = await client.get("/new/feature", headers=basic("chatter", "chatter-pw"))
        assert limited.status == 403 and await limited.json() == {"error": "method not allowed"}
        admin = await client.get("/new/feature", headers=basic("admin", auth.admin_password))
        assert admin.status == 200 and await admin.json() == {"secret": "reached"}


async def test_head_on_a_guarded_get_route_needs_credentials_like_get(tmp_path: Path) -> None:
    async with _api(tmp_path, []) as (client, auth, _app):
        assert (await client.head("/wallet")).status == 401
        assert (await client.head("/healthcheck")).status == 200
        assert (await client.head("/wallet", headers=basic("admin", auth.admin_password))).status not in (401, 403)


async def test_every_registered_route_is_in_the_permission_table_or_explicitly_public(tmp_path: Path) -> None:
    # Adding a route without deciding who may call it fails here (and the route would demand admin meanwhile).
    async with _api(tmp_path, []) as (_client, _auth, app):
        table = app[PERMISSION_KEY]
        guarded = {key for key, perm in table.items() if perm is not None}
        undecided = _registered(app) - guarded - PUBLIC_ROUTES
        assert undecided == set(), f"give these routes a permission in their ROUTES entry or make them public: " \
                                   f"{sorted(undecided)}"
        marked_open = {key for key, perm in table.items() if perm is None}
        assert marked_open <= PUBLIC_ROUTES, "a route with perm=None that is not in PUBLIC_ROUTES would need admin"


def test_public_routes_are_exactly_the_go_routers_unauthenticated_routes_and_swagger_ui() -> None:
    assert PUBLIC_ROUTES == UPSTREAM_UNAUTHENTICATED | SWAGGER_UI
    assert {(r.method, r.path) for r in ROUTES if r.perm is None} == UPSTREAM_UNAUTHENTICATED


async def test_swagger_ui_and_openapi_document_stay_public(tmp_path: Path) -> None:
    async with _api(tmp_path, []) as (client, _auth, _app):
        assert (await client.get("/swagger/index.html")).status == 200
        assert (await client.get("/swagger/openapi.json")).status == 200
        assert (await client.get("/swagger", allow_redirects=False)).status == 302


async def test_an_unknown_path_still_answers_404_and_a_wrong_method_405(tmp_path: Path) -> None:
    # As gin does: no route, no auth check (no handler runs either way), so clients see what is wrong.
    async with _api(tmp_path, []) as (client, _auth, _app):
        missing = await client.get("/no/such/route")
        assert missing.status == 404 and "error" in await missing.json()
        wrong_method = await client.put("/healthcheck")
        assert wrong_method.status == 405
