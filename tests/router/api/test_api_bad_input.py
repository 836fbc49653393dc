"""Bad input on every route that takes input: a 4xx with a message naming the problem, never a 500."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest

from app.router.api.server import CTX_KEY, ROUTES
from tests.router.api.api_env import basic, offline_api

Case = tuple[str, str, dict[str, Any]]
JSON_TYPE = {"Content-Type": "application/json"}


def _cases() -> list[Case]:
    cases: list[Case] = []
    for r in ROUTES:
        good_path = re.sub(r"{\w+}", "0x" + "11" * 32, r.path)
        if "{id}" in r.path:
            cases.append((r.method, re.sub(r"{\w+}", "0xnot-hex", r.path), {"json": {}}))
            cases.append((r.method, re.sub(r"{\w+}", "0x" + "11" * 33, r.path), {"json": {}}))
        if r.body:
            cases.append((r.method, good_path, {"data": b"{not json", "headers": JSON_TYPE}))
            cases.append((r.method, good_path, {"json": ["a", "list"]}))
            cases.append((r.method, good_path, {"json": {}}))
            cases.append((r.method, good_path, {"data": b""}))
            cases.append((r.method, good_path, {"data": b"\xff\xfe\x00", "headers": JSON_TYPE}))
        for name, kind, _required in r.query:
            bad = "abc" if kind == "integer" else "0xnope"
            cases.append((r.method, f"{good_path}?{name}={bad}", {"json": {}}))
    return cases


# Wrong types for the fields of each body, field by field.
WRONG_TYPES: list[Case] = [
    ("POST", "/blockchain/send/eth", {"json": {"to": "0x" + "12" * 20, "amount": "-5"}}),
    ("POST", "/blockchain/send/mor", {"json": {"to": "0x12", "amount": "1"}}),
    ("POST", "/blockchain/send/mor", {"json": {"to": "0x" + "12" * 20, "amount": True}}),
    ("POST", "/blockchain/send/mor", {"json": {"to": "0x" + "12" * 20, "amount": str(2**256)}}),
    ("POST", "/blockchain/providers", {"json": {"stake": "1", "endpoint": "http://host/path"}}),
    ("POST", "/blockchain/providers", {"json": {"stake": {"x": 1}, "endpoint": "host:3333"}}),
    ("POST", "/blockchain/models", {"json": {"ipfsID": "0x" + "11" * 32, "fee": 1, "stake": 1, "name": "m",
                                              "tags": []}}),
    ("POST", "/blockchain/models", {"json": {"ipfsID": "0x" + "11" * 32, "fee": 1, "stake": 1, "name": "x" * 65,
                                              "tags": ["a"]}}),
    ("POST", "/blockchain/models", {"json": {"ipfsID": "0x" + "11" * 32, "fee": 1, "stake": 1, "name": "m",
                                              "tags": [1]}}),
    ("POST", "/blockchain/bids", {"json": {"modelID": "0x11", "pricePerSecond": 1}}),
    ("POST", "/blockchain/bids", {"json": {"modelID": "0x" + "11" * 32, "pricePerSecond": 1.5}}),
    ("POST", "/blockchain/sessions", {"json": {"approval": "zz", "approvalSig": "00", "stake": 1}}),
    ("POST", "/blockchain/sessions", {"json": {"approval": "00", "approvalSig": "00" * 10, "stake": 1}}),
    ("POST", "/blockchain/models/0x" + "11" * 32 + "/session", {"json": {"sessionDuration": "long"}}),
    ("POST", "/blockchain/models/0x" + "11" * 32 + "/session", {"json": {"sessionDuration": 600,
                                                                         "failover": "yes"}}),
    ("POST", "/blockchain/models/0x" + "11" * 32 + "/session", {"json": {"sessionDuration": 600,
                                                                         "omitProvider": ["nope"]}}),
    ("POST", "/blockchain/bids/0x" + "11" * 32 + "/session", {"json": {"sessionDuration": -1}}),
    ("POST", "/blockchain/approve?spender=0x" + "12" * 20, {}),
    ("GET", "/blockchain/allowance", {}),
    ("GET", "/blockchain/sessions/provider", {}),
    ("GET", "/blockchain/providers?order=sideways", {}),
    ("GET", "/blockchain/models?limit=256", {}),
    ("POST", "/blockchain/sessions/withdrawUserStakes?iterations=0", {}),
    ("POST", "/v1/chat/completions", {"json": {"messages": "hi"}}),
    ("POST", "/v1/chat/completions", {"json": {"messages": [{"content": "no role"}]}}),
    ("POST", "/v1/chat/completions", {"json": {"messages": [{"role": "user", "content": "x"}], "stream": "yes"}}),
    ("POST", "/v1/chat/completions", {"json": {"messages": [{"role": "user", "content": "x"}]},
                                      "headers": {"session_id": "0x1234"}}),
    ("POST", "/v1/chat/completions", {"json": {"messages": [{"role": "user", "content": "x"}]}}),
    ("POST", "/v1/chats/0x" + "11" * 32, {"json": {"title": 5}}),
    ("GET", "/v1/chats/0x" + "22" * 32, {}),
    ("DELETE", "/v1/chats/0x" + "22" * 32, {}),
    ("POST", "/proxy/provider/ping", {"json": {"providerAddr": "0x" + "12" * 20, "providerUrl": "no-port"}}),
    ("POST", "/proxy/sessions/initiate", {"json": {"user": "0x" + "12" * 20, "provider": "0x" + "12" * 20,
                                                   "spend": "x", "providerUrl": "h:1", "bidId": "0x" + "11" * 32}}),
    ("POST", "/auth/users", {"json": {"username": "bad name!", "password": "p", "perms": []}}),
    ("POST", "/auth/users", {"json": {"username": "bob", "password": "p", "perms": "chat"}}),
    ("POST", "/auth/users", {"json": {"username": "bob", "password": "p", "perms": ["Bad Perm"]}}),
    ("DELETE", "/auth/users", {"json": {"username": "admin"}}),
    ("DELETE", "/auth/users", {"json": {"username": "nobody"}}),
    ("POST", "/auth/users/request", {"json": {"username": "agent", "password": "p", "perms": ["*"]}}),
    ("POST", "/auth/users/confirm", {"json": {"username": "agent", "confirm": "true"}}),
    ("POST", "/auth/users/confirm", {"json": {"username": "ghost", "confirm": True}}),
    ("POST", "/config/ethNode", {"json": {"urls": []}}),
    ("POST", "/wallet/privateKey", {"json": {"privateKey": 12}}),
    ("POST", "/wallet/mnemonic", {"json": {"mnemonic": ["a"]}}),
]


def _case_id(case: Case) -> str:
    method, url, kw = case
    return f"{method} {url[:60]} {str(kw)[:40]}"


@pytest.mark.parametrize("case", _cases() + WRONG_TYPES, ids=_case_id)
async def test_bad_input_is_a_4xx_with_a_message(tmp_path: Path, case: Case) -> None:
    method, url, kw = case
    async with offline_api(tmp_path) as (client, auth):
        headers = {**basic("admin", auth.admin_password), **kw.get("headers", {})}
        res = await client.request(method, url, headers=headers, **{k: v for k, v in kw.items() if k != "headers"})
        body = await res.json()
        assert 400 <= res.status < 500, (res.status, body)
        assert isinstance(body["error"], str) and len(body["error"]) > 10


async def test_huge_body_is_413_not_500(tmp_path: Path) -> None:
    async with offline_api(tmp_path) as (client, auth):
        res = await client.post("/v1/chat/completions", data=io.BytesIO(b"x" * (5 * 1024 * 1024)),
                                headers={**basic("admin", auth.admin_password), "Content-Type": "application/json"})
        assert res.status == 413
        assert "too large" in (await res.json())["error"]


async def test_unexpected_failure_is_500_without_traceback(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with offline_api(tmp_path) as (client, auth):
        ctx = client.server.app[CTX_KEY]

        class Broken:
            def __getattr__(self, name: str) -> Any:
                raise RuntimeError("database exploded")

        ctx.node.storage = Broken()
        res = await client.get("/v1/chats", headers=basic("admin", auth.admin_password))
        assert res.status == 500
        assert await res.json() == {"error": "internal error, see log"}
        assert "database exploded" in caplog.text
