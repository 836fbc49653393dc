"""An API app over a node whose chain is absent (storage real), for auth and input-validation tests."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from aiohttp.test_utils import TestClient, TestServer

from app.config.models_config import ModelsConfig
from app.config.settings import Settings
from app.router.api.auth import AuthConfig
from app.router.api.context import ApiContext
from app.router.api.ports import ApiChain, ApiMarketplace, ApiToken, EthSender
from app.router.api.server import build_app
from app.storage.store import AsyncStorage


@dataclass
class OfflineNode:
    """A node that has opened its database but is not connected to any chain."""

    storage: AsyncStorage | None
    chain: ApiChain | None = None
    diamond: ApiMarketplace | None = None
    token: ApiToken | None = None
    sender: EthSender | None = None


def basic(user: str, password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


@asynccontextmanager
async def offline_api(folder: Path, models: ModelsConfig | None = None) -> AsyncIterator[tuple[TestClient, AuthConfig]]:
    """A real aiohttp server on 127.0.0.1:0 with fresh auth files in ``folder``."""
    auth = AuthConfig.load(folder / ".cookie", folder / "proxy.conf")
    storage = await AsyncStorage.open(folder / "node.sqlite3")
    ctx = ApiContext(node=OfflineNode(storage), settings=Settings(base_dir=folder), models=models or ModelsConfig(),
                     auth=auth)
    client = TestClient(TestServer(build_app(ctx), host="127.0.0.1", port=0))
    await client.start_server()
    try:
        yield client, auth
    finally:
        await client.close()
        await storage.close()
