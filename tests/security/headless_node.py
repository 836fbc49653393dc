"""The headless node (``mor-launch --headless``) run in-process on its embedded devnet, for exposure and API tests."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from app.bootstrap import headless
from app.config.settings import Settings, load_settings

# anvil's public dev key #5: a throwaway key, never used outside local chains
DEV_KEY = "0x8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba"


@dataclass
class HeadlessNode:
    """What the running node printed, parsed: the API URL, the provider line and the data folder."""

    output: str
    api_url: str
    data_dir: Path

    @property
    def admin_password(self) -> str:
        user, _, password = (self.data_dir / ".cookie").read_text().strip().partition(":")
        assert user == "admin"
        return password


def default_host_with_port_zero(address: str) -> str:
    """The default host of an address setting, with port 0 (so tests never collide on 8082/3333)."""
    host, _, _ = address.rpartition(":")
    return f"{host}:0"


@contextlib.asynccontextmanager
async def running_headless(data_dir: Path, **environ: str) -> AsyncIterator[HeadlessNode]:
    """Start headless mode with default settings except port 0 (and ``environ``); stop it on exit."""
    defaults = Settings()
    env = {
        "MOR_DATA_DIR": str(data_dir),
        "WEB_ADDRESS": default_host_with_port_zero(defaults.web_address),
        "PROXY_ADDRESS": default_host_with_port_zero(defaults.proxy_address),
        **{k: v for k, v in os.environ.items() if k in ("ANVIL_PATH", "PATH", "HOME")},
        **environ,
    }
    settings = load_settings([], environ=env, dotenv_path=data_dir / "absent.env")
    stop, ready, out = asyncio.Event(), asyncio.Event(), io.StringIO()
    task = asyncio.ensure_future(headless.run(settings, stop=stop, out=out, ready=ready, demo=False))
    try:
        done, _ = await asyncio.wait({task, asyncio.ensure_future(ready.wait())}, timeout=60,
                                     return_when=asyncio.FIRST_COMPLETED)
        if task in done or not ready.is_set():
            raise AssertionError(f"headless did not start: {out.getvalue()}")
        text = out.getvalue()
        match = re.search(r"HTTP API\s+(http://\S+)", text)
        assert match, text
        yield HeadlessNode(text, match.group(1), data_dir)
    finally:
        stop.set()
        assert await asyncio.wait_for(task, 30) == 0, out.getvalue()
