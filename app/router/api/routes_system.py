"""System, auth and wallet routes: /healthcheck, /config, /auth/*, /wallet (spec §3.5)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import time
from typing import Any

import aiohttp
from aiohttp import web

from app.config.settings import write_settings_file
from app.config.values import Secret
from app.errors import ApiError, ConfigError
from app.router.api.auth import check_username
from app.router.api.context import ApiContext
from app.router.api.middleware import USER_KEY
from app.router.api.params import json_body, text_field
from app.router.api.spec import Route

ETH_NODE_PROBE_TIMEOUT = 2.0


def _uptime(seconds: float) -> str:
    # Go's time.Duration String(), e.g. "1h2m3.5s".
    whole = int(seconds)
    h, rest = divmod(whole, 3600)
    m, s = divmod(rest, 60)
    frac = f"{seconds - whole:.3f}".lstrip("0").rstrip("0").rstrip(".")
    out = f"{h}h" if h else ""
    out += f"{m}m" if h or m else ""
    return out + f"{s}{frac}s"


async def healthcheck(ctx: ApiContext, request: web.Request) -> web.Response:
    """``{status, version, uptime, components}``; 503 when the database is not usable."""
    components: dict[str, str] = {}
    status = "healthy"
    storage = ctx.node.storage
    if storage is None:
        status, components["storage"] = "degraded", "unhealthy: not open"
    else:
        try:
            await storage.run(storage.sync.chats.list_chats, 1)
            components["storage"] = "healthy"
        except Exception as e:  # any database failure is a degraded node, reported rather than raised
            status, components["storage"] = "degraded", f"unhealthy: {type(e).__name__}"
    components["chain"] = "healthy" if ctx.node.chain is not None else "unavailable"
    body = {"status": status, "version": ctx.version, "uptime": _uptime(time.monotonic() - ctx.started),
            "components": components}
    return web.json_response(body, status=200 if status == "healthy" else 503)


def _sanitized_config(ctx: ApiContext) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for f in dataclasses.fields(ctx.settings):
        env = f.metadata.get("env")
        if not env:
            continue
        value = getattr(ctx.settings, f.name)
        if isinstance(value, Secret):
            value = "***"  # never leak WALLET_PRIVATE_KEY / COOKIE_CONTENT
        elif isinstance(value, dt.timedelta):
            value = f"{value.total_seconds():g}s"
        elif isinstance(value, tuple):
            value = list(value)
        out[env] = value
    return out


async def get_config(ctx: ApiContext, request: web.Request) -> web.Response:
    """``{Version, Commit, Config, DerivedConfig:{WalletAddress, ChainID, EthNodeURLs}}`` with secrets masked."""
    chain = ctx.node.chain
    try:
        wallet = ctx.wallet_address()
    except ApiError:
        wallet = ""
    urls = [ctx.settings.eth_node_address] if ctx.settings.eth_node_address else []
    derived = {"WalletAddress": wallet.lower(), "ChainID": chain.chain_id if chain else 0, "EthNodeURLs": urls}
    return web.json_response({"Version": ctx.version, "Commit": "", "Config": _sanitized_config(ctx),
                              "DerivedConfig": derived})


async def _probe_chain_id(url: str) -> int:
    payload = {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": []}
    timeout = aiohttp.ClientTimeout(total=ETH_NODE_PROBE_TIMEOUT)
    try:
        async with aiohttp.ClientSession(timeout=timeout) as http, http.post(url, json=payload) as resp:
            data = await resp.json(content_type=None)
        return int(data["result"], 16)
    except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError, json.JSONDecodeError) as e:
        raise ApiError(f"{url} did not answer eth_chainId within {ETH_NODE_PROBE_TIMEOUT:g} s: check the URL") from e


async def set_eth_node(ctx: ApiContext, request: web.Request) -> web.Response:
    """Probe each URL's chain id (2 s), require the current chain, store it (applies on the next start)."""
    body = await json_body(request)
    urls = body.get("urls")
    if not isinstance(urls, list) or not urls or not all(isinstance(u, str) and u for u in urls):
        raise ApiError('field "urls" must be a non-empty list of RPC URLs')
    if ctx.settings_file is None:
        raise ApiError("this node cannot store RPC URLs: set ETH_NODE_ADDRESS instead", 501)
    expected = ctx.node.chain.chain_id if ctx.node.chain is not None else None
    for url in urls:
        if not url.startswith(("http://", "https://")):
            raise ApiError(f"{url!r} is not an http(s) RPC URL")
        chain_id = await _probe_chain_id(url)
        if expected is not None and chain_id != expected:
            raise ApiError(f"{url} is on chain {chain_id}, but this node uses chain {expected}")
    try:
        await asyncio.to_thread(write_settings_file, ctx.settings_file, {"ETH_NODE_ADDRESS": urls[0]})
    except ConfigError as e:
        raise ApiError(e.user_message) from e
    return web.json_response({"status": "ok"})


async def remove_eth_node(ctx: ApiContext, request: web.Request) -> web.Response:
    """Forget the stored RPC URL (the next start uses ETH_NODE_ADDRESS from env/.env or the devnet)."""
    if ctx.settings_file is None:
        raise ApiError("this node stores no RPC URLs: unset ETH_NODE_ADDRESS instead", 501)
    await asyncio.to_thread(write_settings_file, ctx.settings_file, {"ETH_NODE_ADDRESS": ""})
    return web.json_response({"status": "ok"})


# -- auth ---------------------------------------------------------------------------------------------------------
async def cookie_path(ctx: ApiContext, request: web.Request) -> web.Response:
    """Where the admin credentials are (the local UI reads the file to build its Basic auth)."""
    return web.json_response({"path": str(ctx.auth.cookie_path.resolve())})


def _perms(body: dict[str, Any]) -> list[str]:
    perms = body.get("perms")
    if not isinstance(perms, list) or not all(isinstance(p, str) for p in perms):
        raise ApiError('field "perms" must be a list of permission names, e.g. ["chat", "get_balance"]')
    return perms


async def add_user(ctx: ApiContext, request: web.Request) -> web.Response:
    """Create or update a user in proxy.conf; a caller without ``*`` may only grant what it holds."""
    body = await json_body(request)
    username = check_username(text_field(body, "username", max_len=64))
    password = text_field(body, "password", max_len=256)
    perms = _perms(body)
    ctx.auth.authorize_change(request[USER_KEY], username, perms)
    await asyncio.to_thread(ctx.auth.add_user, username, password, perms)
    return web.json_response({"result": True})


async def remove_user(ctx: ApiContext, request: web.Request) -> web.Response:
    """Remove a user from proxy.conf (never admin)."""
    body = await json_body(request)
    username = check_username(text_field(body, "username", max_len=64))
    ctx.auth.authorize_change(request[USER_KEY], username)
    if not await asyncio.to_thread(ctx.auth.remove_user, username):
        raise ApiError(f"no user {username!r}", 404)
    return web.json_response({"result": True})


@dataclasses.dataclass
class _AgentRequest:
    username: str
    password: str = dataclasses.field(repr=False)
    perms: list[str]
    allowances: dict[str, str]
    confirmed: bool = False


_PENDING = web.AppKey("agent_requests", dict)


def _pending(request: web.Request) -> dict[str, _AgentRequest]:
    pending: dict[str, _AgentRequest] = request.app[_PENDING]
    return pending


async def request_agent_user(ctx: ApiContext, request: web.Request) -> web.Response:
    """An agent asks for an account (open route); the admin confirms it with POST /auth/users/confirm."""
    body = await json_body(request)
    username = check_username(text_field(body, "username", max_len=64))
    if username == "admin" or username in ctx.auth.users():
        raise ApiError(f"user {username!r} already exists", 409)
    password = text_field(body, "password", max_len=256)
    if not password:
        raise ApiError("password must not be empty")
    perms = _perms(body)
    if "*" in perms:
        raise ApiError("an agent may not ask for every permission (*); list the ones it needs")
    raw_allowances = body.get("allowances", {})
    if not isinstance(raw_allowances, dict) or not all(isinstance(v, str | int) for v in raw_allowances.values()):
        raise ApiError('field "allowances" must be an object of token → amount, e.g. {"eth": "1000"}')
    pending = _pending(request)
    if len(pending) >= 100:
        raise ApiError("too many pending agent requests; confirm or reject some first", 429)
    pending[username] = _AgentRequest(username, password, perms, {k: str(v) for k, v in raw_allowances.items()})
    return web.json_response({"result": True})


async def confirm_agent_user(ctx: ApiContext, request: web.Request) -> web.Response:
    """Accept (create the user) or reject a pending agent request."""
    body = await json_body(request)
    username = check_username(text_field(body, "username", max_len=64))
    confirm = body.get("confirm")
    if not isinstance(confirm, bool):
        raise ApiError('field "confirm" must be true or false')
    pending = _pending(request)
    agent = pending.pop(username, None)
    if agent is None:
        raise ApiError(f"no pending request from {username!r}", 404)
    if confirm:
        ctx.auth.authorize_change(request[USER_KEY], username, agent.perms)
        await asyncio.to_thread(ctx.auth.add_user, username, agent.password, agent.perms)
    return web.json_response({"result": True})


async def list_agent_users(ctx: ApiContext, request: web.Request) -> web.Response:
    """Pending agent requests and confirmed users."""
    agents: list[dict[str, Any]] = [
        {"username": a.username, "perms": a.perms, "allowances": a.allowances, "isConfirmed": False}
        for a in _pending(request).values()
    ]
    for user in ctx.auth.users():
        if user != "admin":
            agents.append({"username": user, "perms": sorted(ctx.auth.permissions(user)), "allowances": {},
                           "isConfirmed": True})
    return web.json_response({"agents": agents})


# -- wallet -------------------------------------------------------------------------------------------------------
async def get_wallet(ctx: ApiContext, request: web.Request) -> web.Response:
    """``{address}``; upstream answers 500 without a wallet, we answer 409 with what to do."""
    return web.json_response({"address": ctx.wallet_address().lower()})


def _need_wallet_port(ctx: ApiContext) -> Any:
    if ctx.wallet is None:
        raise ApiError("this node's wallet is managed by the app; set it up there", 501)
    return ctx.wallet


async def set_private_key(ctx: ApiContext, request: web.Request) -> web.Response:
    """Set the node wallet from a hex private key."""
    body = await json_body(request)
    key = text_field(body, "privateKey", max_len=80)
    if not key:
        raise ApiError('field "privateKey" is required')
    address = await _need_wallet_port(ctx).set_private_key(key)
    return web.json_response({"address": str(address).lower()})


async def set_mnemonic(ctx: ApiContext, request: web.Request) -> web.Response:
    """Set the node wallet from a BIP-39 mnemonic and a derivation path (``"0"`` = m/44'/60'/0'/0/0)."""
    body = await json_body(request)
    mnemonic = text_field(body, "mnemonic", max_len=1024)
    path = text_field(body, "derivationPath", required=False, max_len=128) or "0"
    if not mnemonic.strip():
        raise ApiError('field "mnemonic" is required')
    address = await _need_wallet_port(ctx).set_mnemonic(mnemonic, path)
    return web.json_response({"address": str(address).lower()})


async def delete_wallet(ctx: ApiContext, request: web.Request) -> web.Response:
    """Remove the node wallet."""
    await _need_wallet_port(ctx).remove()
    return web.json_response({"status": "ok"})


def setup_app(app: web.Application) -> None:
    """Per-app state these routes keep (pending agent requests)."""
    app[_PENDING] = {}


ROUTES = (
    Route("GET", "/healthcheck", healthcheck, None, "system", "Node health", response="HealthCheckRes"),
    Route("GET", "/config", get_config, "system_config", "system", "Node configuration (secrets masked)",
          response="ConfigRes"),
    Route("POST", "/config/ethNode", set_eth_node, "system_config", "system",
          "Store the chain RPC URL (probed first; used from the next start)", body="SetEthNodeReq",
          response="StatusRes"),
    Route("DELETE", "/config/ethNode", remove_eth_node, "system_config", "system", "Forget the stored RPC URL",
          response="StatusRes"),
    Route("GET", "/auth/cookie/path", cookie_path, None, "auth", "Path of the .cookie file", response="PathRes"),
    Route("POST", "/auth/users", add_user, "add_user", "auth", "Add or update an API user", body="AddUserReq",
          response="ResultRes"),
    Route("DELETE", "/auth/users", remove_user, "remove_user", "auth", "Remove an API user",
          body="RemoveUserReq", response="ResultRes"),
    Route("GET", "/auth/users", list_agent_users, "agent_requests", "auth", "Agent users and pending requests",
          response="AgentUsersRes"),
    Route("POST", "/auth/users/request", request_agent_user, None, "auth", "An agent asks for an API account",
          body="RequestAgentUserReq", response="ResultRes"),
    Route("POST", "/auth/users/confirm", confirm_agent_user, "agent_requests", "auth",
          "Accept or reject an agent's request", body="ConfirmAgentReq", response="ResultRes"),
    Route("GET", "/wallet", get_wallet, "get_wallet", "wallet", "The node wallet's address",
          response="WalletRes"),
    Route("POST", "/wallet/privateKey", set_private_key, "set_wallet", "wallet",
          "Set the node wallet from a private key", body="SetPrivateKeyReq", response="WalletRes"),
    Route("POST", "/wallet/mnemonic", set_mnemonic, "set_wallet", "wallet", "Set the node wallet from a mnemonic",
          body="SetMnemonicReq", response="WalletRes"),
    Route("DELETE", "/wallet", delete_wallet, "remove_wallet", "wallet", "Remove the node wallet",
          response="StatusRes"),
)
