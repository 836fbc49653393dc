"""Headless mode (``mor-launch --headless``): the router without Qt, configured like the Go binary (env, .env)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from app.bootstrap.api_wiring import build_api_server, load_auth
from app.bootstrap.logs import InstalledLogging, LogConfig, install_logging
from app.bootstrap.services import Services
from app.config.node_config import load_node_config
from app.config.settings import Settings, load_settings
from app.errors import AppError, WalletError
from app.paths import data_dir
from app.wallet.manager import ENV_PRIVATE_KEY, LockState, WalletManager

log = logging.getLogger(__name__)


def _data_dir(settings: Settings) -> Path:
    if settings.mor_data_dir:
        path = Path(settings.mor_data_dir)
        path.mkdir(parents=True, exist_ok=True)
        return path
    return data_dir()


def _provider_line(services: Services) -> str:
    provider = services.provider
    if provider is None:
        return "off until a wallet is set"
    if services.router is not None and services.router.serving:
        host, port = provider.server.address
        return f"MOR-RPC on {host}:{port}"
    return f"{provider.state} (register as a provider, or set PROVIDER_FORCE=true to serve anyway)"


async def run(settings: Settings, *, stop: asyncio.Event | None = None, out: TextIO = sys.stdout,
              ready: asyncio.Event | None = None, demo: bool = True) -> int:
    """Start storage, chain (devnet without ETH_NODE_ADDRESS), wallet, router parts (consumer; provider node when
    the wallet is a registered provider or PROVIDER_FORCE) and the HTTP API; serve until
    ``stop`` is set (or SIGINT/SIGTERM); print where everything listens. Returns the exit code."""
    stop = stop or asyncio.Event()
    folder = _data_dir(settings)
    config = load_node_config(settings)
    # The wallet key may come from a flag or .env too, so hand the manager the resolved value, not os.environ.
    key = settings.wallet_private_key
    environ = {ENV_PRIVATE_KEY: key.reveal()} if key is not None else {}
    wallet = WalletManager(folder, auto_lock_seconds=None, environ=environ)
    services = Services(config, folder, wallet=wallet, demo=demo)
    server = None
    try:
        await services.start()
        auth = await load_auth(services)
        if services.wallet.state is LockState.LOCKED:
            # A wallet set over the API is protected by the admin password (see ApiWallet).
            with contextlib.suppress(WalletError):
                await services.wallet.unlock(auth.admin_password)
        server = build_api_server(services, auth, lambda: services.consumer)
        await server.start()
        network = services.network
        lines = [
            f"HTTP API      {server.url}  (Swagger UI {server.url}/swagger/index.html)",
            f"credentials   {auth.cookie_path.resolve()} (admin), users in {auth.conf_path.resolve()}",
            f"chain         {network.name if network else '?'} (chain id {network.chain_id if network else '?'})"
            + (f" at {services.devnet.rpc_url} (embedded devnet)" if services.devnet else ""),
            f"wallet        {services.wallet.address or 'none: POST /wallet/privateKey or set WALLET_PRIVATE_KEY'}",
            f"provider      {_provider_line(services)}",
            f"data folder   {folder}",
        ]
        out.write("\n".join(lines) + "\n")
        out.flush()
        if ready is not None:
            ready.set()
        await stop.wait()
        return 0
    except AppError as e:
        out.write(f"mor-launch --headless: {e.user_message}\n")
        return 1
    finally:
        if server is not None:
            await server.stop()
        await services.stop()


def install_headless_logging(settings: Settings, console: TextIO | None = None) -> InstalledLogging:
    """The LOG_* settings applied: stderr (or ``console``) plus the rotating log file, by default in
    ``<data folder>/logs``. ConfigError when the log file cannot be written."""
    return install_logging(LogConfig.from_settings(settings), default_folder=_data_dir(settings) / "logs",
                           console=sys.stderr if console is None else console)  # fmt: skip


def main(argv: Sequence[str] = ()) -> int:
    """Entry point: settings from ``--flags``, env and ``./.env`` (Go names); Ctrl+C stops cleanly."""
    try:
        settings = load_settings(argv)
    except AppError as e:
        sys.stderr.write(f"mor-launch --headless: {e.user_message}\n")
        return 2
    try:
        install_headless_logging(settings)
    except AppError as e:
        sys.stderr.write(f"mor-launch --headless: {e.user_message}\n")
        return 2

    async def body() -> int:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):  # Windows: Ctrl+C raises KeyboardInterrupt instead
                loop.add_signal_handler(sig, stop.set)
        return await run(settings, stop=stop)

    try:
        return asyncio.run(body())
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
