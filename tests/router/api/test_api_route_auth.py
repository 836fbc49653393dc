"""Every guarded route: 401 without or with wrong credentials, 403 outside the whitelist; open routes stay open."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from app.router.api.server import ROUTES
from app.router.api.spec import Route
from tests.router.api.api_env import basic, offline_api

GUARDED = [r for r in ROUTES if r.perm is not None]
OPEN = [r for r in ROUTES if r.perm is None]
UPSTREAM_OPEN = {"/healthcheck", "/proxy/provider/ping", "/auth/cookie/path", "/auth/users/request"}


def _url(route: Route) -> str:
    return re.sub(r"{\w+}", "0x" + "11" * 32, route.path)


def _id(route: Route) -> str:
    return f"{route.method} {route.path}"


def test_open_routes_are_exactly_upstreams() -> None:
    assert {r.path for r in OPEN} == UPSTREAM_OPEN


@pytest.mark.parametrize("route", GUARDED, ids=_id)
async def test_guarded_route_needs_credentials(tmp_path: Path, route: Route) -> None:
    async with offline_api(tmp_path) as (client, _auth):
        none = await client.request(route.method, _url(route), json={})
        wrong = await client.request(route.method, _url(route), json={}, headers=basic("admin", "not-it"))
        assert none.status == 401 and wrong.status == 401
        assert "unauthorized" in (await none.json())["error"]
        assert none.headers["WWW-Authenticate"].startswith("Basic")


@pytest.mark.parametrize("route", GUARDED, ids=_id)
async def test_guarded_route_refuses_users_outside_its_whitelist(tmp_path: Path, route: Route) -> None:
    async with offline_api(tmp_path) as (client, auth):
        other = "get_latest_block" if route.perm != "get_latest_block" else "get_balance"
        auth.add_user("limited", "limited-pw", [other])
        res = await client.request(route.method, _url(route), json={}, headers=basic("limited", "limited-pw"))
        assert res.status == 403
        assert (await res.json()) == {"error": "method not allowed"}


@pytest.mark.parametrize("route", GUARDED, ids=_id)
async def test_whitelisted_user_gets_past_auth(tmp_path: Path, route: Route) -> None:
    async with offline_api(tmp_path) as (client, auth):
        assert route.perm is not None
        auth.add_user("narrow", "narrow-pw", [route.perm])
        res = await client.request(route.method, _url(route), json={}, headers=basic("narrow", "narrow-pw"))
        assert res.status not in (401, 403) or (route.path == "/auth/users" and res.status == 403)


@pytest.mark.parametrize("route", OPEN, ids=_id)
async def test_open_route_needs_no_credentials(tmp_path: Path, route: Route) -> None:
    async with offline_api(tmp_path) as (client, _):
        res = await client.request(route.method, _url(route), json={})
        assert res.status not in (401, 403)


async def test_cors_preflight_and_headers_match_upstream(tmp_path: Path) -> None:
    async with offline_api(tmp_path) as (client, _):
        pre = await client.options("/v1/chat/completions", headers={"Origin": "http://x",
                                                                    "Access-Control-Request-Method": "POST"})
        assert pre.status == 204
        assert pre.headers["Access-Control-Allow-Origin"] == "*"
        allowed = pre.headers["Access-Control-Allow-Headers"]
        assert allowed == "session_id, model_id, chat_id, Authorization, content-type"
        health = await client.get("/healthcheck")
        assert health.headers["Access-Control-Allow-Origin"] == "*"
