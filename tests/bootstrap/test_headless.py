"""Headless mode: the router without Qt on the embedded devnet, configured by Go env names and a .env file."""

from __future__ import annotations

import asyncio
import base64
import io
import os
import stat
from pathlib import Path

import aiohttp
import pytest

from app.bootstrap.headless import main, run
from app.config.settings import load_settings
from app.devnet.accounts import dev_private_keys


async def test_headless_runs_the_api_on_the_devnet_from_a_dotenv(tmp_path: Path) -> None:
    key = dev_private_keys()[5].hex()
    (tmp_path / ".env").write_text(f"WEB_ADDRESS=127.0.0.1:0\nWALLET_PRIVATE_KEY=0x{key}\nCOOKIE_CONTENT=hunter22\n"
                                   f"MOR_DATA_DIR={tmp_path / 'data'}\n")
    settings = load_settings([], environ={}, dotenv_path=tmp_path / ".env")
    stop, ready, out = asyncio.Event(), asyncio.Event(), io.StringIO()
    task = asyncio.create_task(run(settings, stop=stop, out=out, ready=ready, demo=False))
    await asyncio.wait_for(ready.wait(), 120)
    printed = out.getvalue()
    url = next(line.split()[2] for line in printed.splitlines() if line.startswith("HTTP API"))
    auth = {"Authorization": "Basic " + base64.b64encode(b"admin:hunter22").decode()}
    async with aiohttp.ClientSession() as http:
        async with http.get(url + "/healthcheck") as res:
            assert res.status == 200 and (await res.json())["status"] == "healthy"
        async with http.get(url + "/wallet", headers=auth) as res:
            wallet = await res.json()
        async with http.get(url + "/blockchain/balance", headers=auth) as res:
            assert res.status == 200 and set(await res.json()) == {"eth", "mor"}
        async with http.get(url + "/wallet") as res:
            assert res.status == 401
    stop.set()
    assert await asyncio.wait_for(task, 60) == 0
    assert "embedded devnet" in printed and "Swagger UI" in printed
    assert wallet["address"].startswith("0x") and wallet["address"] in printed.lower()
    cookie = tmp_path / ".cookie"
    assert cookie.read_text() == "admin:hunter22\n"
    if os.name == "posix":
        assert stat.S_IMODE(cookie.stat().st_mode) == 0o600
        assert stat.S_IMODE((tmp_path / "proxy.conf").stat().st_mode) == 0o600


def test_bad_setting_exits_2_with_the_variable_named(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--web-address", "nonsense"]) == 2
    err = capsys.readouterr().err
    assert "--web-address" in err and "mor-launch --headless" in err
