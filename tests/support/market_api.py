"""The HTTP API over a consumer-market devnet (anvil, two provider nodes, the consumer), plus a local model."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from openai import AsyncOpenAI

from app.config.models_config import parse_models_config
from app.config.settings import Settings
from app.router.api.auth import AuthConfig
from app.router.api.context import ApiContext
from app.router.api.server import ApiServer
from tests.router.consumer.consumer_env import Market, running_market
from tests.support.openai_backend import OpenAIBackendServer

LOCAL_MODEL_ID = "0x" + "5a" * 32


@dataclass
class MarketNode:
    """The consumer wallet's view of the market's chain (what Services gives the API)."""

    market: Market

    @property
    def storage(self) -> Any:
        return self.market.storage

    @property
    def chain(self) -> Any:
        return self.market.client

    @property
    def diamond(self) -> Any:
        return self.market.user.diamond

    @property
    def token(self) -> Any:
        return self.market.user.token

    @property
    def sender(self) -> Any:
        return self.market.user.sender


@dataclass
class Api:
    server: ApiServer
    market: Market
    local: OpenAIBackendServer
    auth: AuthConfig

    @property
    def headers(self) -> dict[str, str]:
        token = base64.b64encode(f"admin:{self.auth.admin_password}".encode()).decode()
        return {"Authorization": f"Basic {token}"}

    def openai(self) -> AsyncOpenAI:
        return AsyncOpenAI(base_url=self.server.url + "/v1", api_key="unused", default_headers=self.headers,
                           max_retries=0)

    async def call(self, method: str, path: str, **kw: Any) -> tuple[int, Any]:
        async with aiohttp.ClientSession(headers=self.headers) as http, \
                http.request(method, self.server.url + path, **kw) as res:
            return res.status, await res.json(content_type=None)


@asynccontextmanager
async def running_api(tmp_path: Path) -> AsyncIterator[Api]:
    async with running_market(tmp_path) as market, OpenAIBackendServer(model="local-llm") as local:
        models = parse_models_config({"models": [{"modelId": LOCAL_MODEL_ID, "modelName": "local-llm",
                                                  "apiType": "openai", "apiUrl": local.base_url}]}, "test")
        auth = AuthConfig.load(tmp_path / ".cookie", tmp_path / "proxy.conf")
        ctx = ApiContext(node=MarketNode(market), settings=Settings(base_dir=tmp_path), models=models, auth=auth,
                         consumer=lambda: market.consumer)
        server = ApiServer(ctx, "127.0.0.1:0")
        await server.start()
        try:
            yield Api(server, market, local, auth)
        finally:
            await server.stop()
