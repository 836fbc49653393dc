"""The committed OpenAPI document matches the registered routes both ways, and Swagger UI is served locally."""

from __future__ import annotations

import json
import re
from pathlib import Path

from aiohttp import web

from app.router.api import openapi, swagger
from app.router.api.server import ROUTES
from tests.router.api.api_env import offline_api


def _registered(app: web.Application) -> set[tuple[str, str]]:
    out = set()
    for route in app.router.routes():
        info = route.resource.canonical if route.resource is not None else ""
        if route.method in ("HEAD", "OPTIONS") or info.startswith(swagger.PREFIX):
            continue
        out.add((route.method.upper(), info))
    return out


def test_committed_document_is_current() -> None:
    committed = openapi.document_path().read_text(encoding="utf-8")
    assert committed == openapi.render(ROUTES), "run: python -m app.router.api.openapi"


async def test_every_registered_route_is_documented_and_vice_versa(tmp_path: Path) -> None:
    async with offline_api(tmp_path) as (client, _):
        registered = _registered(client.server.app)
    doc = json.loads(openapi.document_path().read_text(encoding="utf-8"))
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert registered == documented
    assert len(documented) == len(ROUTES)


def test_every_schema_reference_resolves() -> None:
    text = openapi.document_path().read_text(encoding="utf-8")
    names = set(re.findall(r'"#/components/schemas/(\w+)"', text))
    assert names <= set(openapi.SCHEMAS), names - set(openapi.SCHEMAS)


def test_guarded_operations_carry_their_permission() -> None:
    doc = openapi.build_document(ROUTES)
    for route in ROUTES:
        op = doc["paths"][route.path][route.method.lower()]
        assert op.get("x-permission") == route.perm
        assert ("401" in op["responses"]) is (route.perm is not None)


async def test_swagger_ui_is_served_from_local_files_without_credentials(tmp_path: Path) -> None:
    async with offline_api(tmp_path) as (client, _):
        page = await client.get("/swagger/index.html")
        html = await page.text()
        assert page.status == 200 and "viewer.js" in html
        assert "http://" not in html and "https://" not in html  # nothing from a CDN
        spec = await client.get("/swagger/openapi.json")
        assert spec.status == 200 and (await spec.json())["openapi"].startswith("3.")
        script = await client.get("/swagger/viewer.js")
        assert script.status == 200 and "javascript" in script.headers["Content-Type"]
        assert (await client.get("/swagger/..%2Fopenapi.py")).status == 404
        redirect = await client.get("/swagger", allow_redirects=False)
        assert redirect.status == 302 and redirect.headers["Location"] == "/swagger/index.html"
