"""System, auth and wallet routes end to end over HTTP: health, masked config, users, agent onboarding, wallet."""

from __future__ import annotations

from pathlib import Path

import keyring.backends.fail
from aiohttp.test_utils import TestClient, TestServer

from app.bootstrap.api_wiring import ApiWallet
from app.config.models_config import ModelsConfig
from app.config.settings import load_settings
from app.config.values import Secret
from app.devnet.accounts import dev_private_keys
from app.router.api.auth import AuthConfig
from app.router.api.context import ApiContext
from app.router.api.server import build_app
from app.storage.store import AsyncStorage
from app.wallet.keystore import ScryptParams
from app.wallet.manager import WalletManager
from tests.router.api.api_env import OfflineNode, basic, offline_api

MNEMONIC = "test test test test test test test test test test test junk"


async def test_healthcheck_reports_storage_and_uptime(tmp_path: Path) -> None:
    async with offline_api(tmp_path) as (client, _):
        res = await client.get("/healthcheck")
        body = await res.json()
        assert res.status == 200 and body["status"] == "healthy"
        assert body["components"]["storage"] == "healthy" and body["uptime"].endswith("s")


async def test_config_masks_secrets(tmp_path: Path) -> None:
    settings = load_settings(["--wallet-private-key", "0x" + "11" * 32, "--cookie-content", "pw"], environ={},
                             dotenv_path=tmp_path / "none.env")
    assert isinstance(settings.wallet_private_key, Secret)
    auth = AuthConfig.load(tmp_path / ".cookie", tmp_path / "proxy.conf")
    storage = await AsyncStorage.open(tmp_path / "db.sqlite3")
    ctx = ApiContext(node=OfflineNode(storage), settings=settings, models=ModelsConfig(), auth=auth)
    async with TestClient(TestServer(build_app(ctx), host="127.0.0.1", port=0)) as client:
        res = await client.get("/config", headers=basic("admin", auth.admin_password))
        text = await res.text()
        body = await res.json()
    await storage.close()
    assert res.status == 200
    assert body["Config"]["WALLET_PRIVATE_KEY"] == "***" and body["Config"]["COOKIE_CONTENT"] == "***"
    assert "11" * 32 not in text and body["Config"]["WEB_ADDRESS"] == "127.0.0.1:8082"


async def test_admin_adds_and_removes_a_user_who_can_then_call_only_its_routes(tmp_path: Path) -> None:
    async with offline_api(tmp_path) as (client, auth):
        admin = basic("admin", auth.admin_password)
        res = await client.post("/auth/users", json={"username": "reader", "password": "pw-1", "perms":
                                                      ["get_chat_history"]}, headers=admin)
        assert (res.status, await res.json()) == (200, {"result": True})
        assert (await client.get("/v1/chats", headers=basic("reader", "pw-1"))).status == 200
        assert (await client.get("/config", headers=basic("reader", "pw-1"))).status == 403
        res = await client.delete("/auth/users", json={"username": "reader"}, headers=admin)
        assert res.status == 200
        assert (await client.get("/v1/chats", headers=basic("reader", "pw-1"))).status == 401


async def test_agent_requests_an_account_and_the_admin_confirms_it(tmp_path: Path) -> None:
    async with offline_api(tmp_path) as (client, auth):
        admin = basic("admin", auth.admin_password)
        res = await client.post("/auth/users/request", json={"username": "agent7", "password": "agent-pw",
                                                              "perms": ["chat"], "allowances": {"eth": "10"}})
        assert res.status == 200
        listed = await (await client.get("/auth/users", headers=admin)).json()
        assert listed["agents"] == [{"username": "agent7", "perms": ["chat"], "allowances": {"eth": "10"},
                                     "isConfirmed": False}]
        assert (await client.get("/v1/models", headers=basic("agent7", "agent-pw"))).status == 401
        res = await client.post("/auth/users/confirm", json={"username": "agent7", "confirm": True}, headers=admin)
        assert res.status == 200
        assert (await client.post("/v1/chat/completions", json={"messages": [{"role": "user", "content": "x"}]},
                                  headers=basic("agent7", "agent-pw"))).status == 400  # authorized, no model
        assert (await client.get("/v1/models", headers=basic("agent7", "agent-pw"))).status == 403


async def test_wallet_is_set_from_a_key_or_mnemonic_and_removed(tmp_path: Path) -> None:
    auth = AuthConfig.load(tmp_path / ".cookie", tmp_path / "proxy.conf")
    manager = WalletManager(tmp_path, keyring_backend=keyring.backends.fail.Keyring(), scrypt=ScryptParams(n=2**12),
                            environ={})
    storage = await AsyncStorage.open(tmp_path / "db.sqlite3")
    ctx = ApiContext(node=OfflineNode(storage), settings=load_settings([], environ={}, dotenv_path=tmp_path / "x"),
                     models=ModelsConfig(), auth=auth, wallet=ApiWallet(manager, lambda: auth.admin_password))
    admin = basic("admin", auth.admin_password)
    async with TestClient(TestServer(build_app(ctx), host="127.0.0.1", port=0)) as client:
        assert (await client.get("/wallet", headers=admin)).status == 409
        key = dev_private_keys()[3]
        res = await client.post("/wallet/privateKey", json={"privateKey": "0x" + key.hex()}, headers=admin)
        address = (await res.json())["address"]
        assert res.status == 200 and (await (await client.get("/wallet", headers=admin)).json()) == {"address":
                                                                                                      address}
        bad = await client.post("/wallet/privateKey", json={"privateKey": "0x1234"}, headers=admin)
        assert bad.status == 400 and "64 hex" in (await bad.json())["error"]
        res = await client.post("/wallet/mnemonic", json={"mnemonic": MNEMONIC, "derivationPath": "0"},
                                headers=admin)
        # anvil's well-known first account: m/44'/60'/0'/0/0 of the test mnemonic
        assert (await res.json()) == {"address": "0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266"}
        assert (await client.delete("/wallet", headers=admin)).status == 200
        assert (await client.get("/wallet", headers=admin)).status == 409
    await storage.close()
