"""Default settings expose nothing beyond loopback except the provider port when providing; every non-public route
asks for credentials; the files that hold credentials and keys are private (0600)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import aiohttp
from keyring.backends import fail

from app.paths import resources_dir
from app.wallet.filestore import KEYSTORE_FILE, SEED_FILE
from app.wallet.manager import WalletManager
from app.wallet.mnemonic import generate_mnemonic
from app.wallet.secret import WalletSecret
from tests.security.headless_node import DEV_KEY, running_headless
from tests.security.listening import listeners
from tests.wallet.vectors import FAST_SCRYPT

PASSWORD = "exposure-app-password"
WALLET_FILES = (KEYSTORE_FILE, SEED_FILE, "app-password.json")


def _wallet_files(folder: Path) -> list[Path]:
    return [p for p in folder.rglob("*") if p.name in WALLET_FILES]


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


async def test_default_node_without_providing_listens_on_loopback_only(isolated_data_dir: Path) -> None:
    async with running_headless(isolated_data_dir) as node:
        found = listeners()

    assert found, "the API at least must be listening"
    assert [x for x in found if not x.loopback] == []
    assert "off until a wallet is set" in node.output


async def test_providing_node_exposes_only_the_provider_port(isolated_data_dir: Path) -> None:
    async with running_headless(isolated_data_dir, WALLET_PRIVATE_KEY=DEV_KEY, PROVIDER_FORCE="true") as node:
        found = listeners()

    [line] = [line for line in node.output.splitlines() if line.startswith("provider")]
    provider_port = int(line.rsplit(":", 1)[1])
    exposed = [x for x in found if not x.loopback]
    assert [x.port for x in exposed] == [provider_port]
    assert {x.pid for x in exposed} == {x.pid for x in found if x.port == provider_port}


async def test_every_non_public_documented_route_needs_credentials(isolated_data_dir: Path) -> None:
    document = json.loads((resources_dir() / "openapi" / "openapi.json").read_text())
    operations = [(path, method) for path, item in document["paths"].items() for method, op in item.items()
                  if isinstance(op, dict) and op.get("security") != []]
    assert len(operations) > 40
    async with running_headless(isolated_data_dir) as node, aiohttp.ClientSession() as http:
        for path, method in operations:
            url = node.api_url + path.replace("{", "").replace("}", "")
            async with http.request(method.upper(), url, json={}) as response:
                body = await response.json(content_type=None)
                assert response.status == 401, (method, path, response.status, body)
                assert body["error"], (method, path)


async def test_cookie_proxy_conf_and_wallet_files_are_private(isolated_data_dir: Path) -> None:
    manager = WalletManager(isolated_data_dir, keyring_backend=fail.Keyring(), scrypt=FAST_SCRYPT, environ={})
    await manager.setup(PASSWORD, WalletSecret.from_mnemonic(generate_mnemonic(12)))
    manager.lock()
    async with running_headless(isolated_data_dir):
        pass

    private = [isolated_data_dir / ".cookie", isolated_data_dir / "proxy.conf"]
    wallet_files = _wallet_files(isolated_data_dir)
    assert sorted(p.name for p in wallet_files) == sorted(WALLET_FILES)
    for path in private + wallet_files:
        assert _mode(path) == 0o600, (path, oct(_mode(path)))
