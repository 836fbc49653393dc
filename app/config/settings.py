"""Every node setting, declared once (Go env name, type, default, help), loaded with a fixed precedence.

Precedence, highest first: CLI flag (``--kebab-case`` of the env name) > environment variable > ``.env`` file >
settings file (JSON ``{"ENV_NAME": value}``, written by the GUI) > default.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from app.config import values as v
from app.config.dotenv import load_dotenv
from app.config.values import Parser, Secret
from app.errors import ConfigError
from app.paths import data_dir

log = logging.getLogger(__name__)

# Upstream variables we accept for drop-in compatibility but do not act on (features out of scope here).
IGNORED_PREFIXES = ("IPFS_", "TEE_", "SYS_", "AGENT_CONFIG_", "ARTIFACT_REGISTRY_", "SERVICE_")
IGNORED_NAMES = frozenset({"DOCKER_HOST", "APP_RESET_KEYCHAIN", "CNODE_PNODE_AUDIO_MAX_RETRIES"})


def _s(env: str, default: Any, parse: Parser, help: str) -> Any:
    if isinstance(default, list | dict | set):
        raise TypeError("mutable defaults are not allowed")
    return field(default=default, metadata={"env": env, "parse": parse, "help": help})


def _seconds(n: int) -> dt.timedelta:
    return dt.timedelta(seconds=n)


@dataclass(frozen=True)
class Settings:
    """The node's settings. Field metadata holds the env name, parser and help text of each one."""

    wallet_private_key: Secret | None = _s(  # noqa: RUF009 - _s returns a dataclasses.field
        "WALLET_PRIVATE_KEY", None, v.secret,
        "Hex private key. When set the keychain is not used and the key is never written to disk.")
    eth_node_address: str | None = _s(
        "ETH_NODE_ADDRESS", None, v.optional_rpc_url,
        "JSON-RPC URL of the chain (http(s):// or ws(s)://). Empty: the keychain URL, then public RPCs.")
    eth_node_chain_id: int = _s(
        "ETH_NODE_CHAIN_ID", 0, v.non_negative_int,
        "Chain id the RPC must report (8453 Base, 84532 Base Sepolia); 0 = accept the node's.")
    eth_node_legacy_tx: bool = _s(
        "ETH_NODE_LEGACY_TX", False, v.boolean, "Send gasPrice (legacy) transactions instead of EIP-1559.")
    eth_node_use_subscriptions: bool = _s(
        "ETH_NODE_USE_SUBSCRIPTIONS", False, v.boolean, "Watch contract logs over a WS subscription, not polling.")
    eth_node_polling_interval: dt.timedelta = _s(  # noqa: RUF009 - _s returns a dataclasses.field
        "ETH_NODE_POLLING_INTERVAL", _seconds(10), v.duration, "How often to poll for new logs (Go duration).")
    eth_node_max_reconnects: int = _s(
        "ETH_NODE_MAX_RECONNECTS", 30, v.non_negative_int, "Reconnect attempts for the RPC connection.")
    blockscout_api_url: str | None = _s(
        "BLOCKSCOUT_API_URL", None, v.optional_http_url,
        "Blockscout API v2 base URL for transaction history, e.g. https://base.blockscout.com/api/v2.")
    explorer_retry_delay: dt.timedelta = _s(  # noqa: RUF009 - _s returns a dataclasses.field
        "EXPLORER_RETRY_DELAY", _seconds(5), v.duration, "Delay between Blockscout retries.")
    explorer_max_retries: int = _s(
        "EXPLORER_MAX_RETRIES", 5, v.non_negative_int, "Blockscout retries before giving up.")
    diamond_contract_address: str | None = _s(
        "DIAMOND_CONTRACT_ADDRESS", None, v.optional_address,
        "The Morpheus Diamond contract (every marketplace call goes to it). Empty: the network preset's.")
    mor_token_address: str | None = _s(
        "MOR_TOKEN_ADDRESS", None, v.optional_address, "The MOR ERC-20 token. Empty: the network preset's.")
    multicall3_addr: str = _s(
        "MULTICALL3_ADDR", "0xca11bde05977b3631167028862be2a173976ca11", v.address, "Multicall3 contract.")
    proxy_address: str = _s(
        "PROXY_ADDRESS", "0.0.0.0:3333", v.host_port,
        "host:port of the MOR-RPC listener that consumers dial (providers only).")
    web_address: str = _s(
        "WEB_ADDRESS", "127.0.0.1:8082", v.host_port,
        "host:port of the local HTTP API. Loopback by default: never expose it publicly.")
    web_public_url: str | None = _s(
        "WEB_PUBLIC_URL", None, v.optional_http_url,
        "Public URL of the HTTP API (Swagger links). Empty: http://localhost:<WEB_ADDRESS port>.")
    proxy_storage_path: str | None = _s(
        "PROXY_STORAGE_PATH", None, v.optional_text, "Folder for node storage. Empty: the data folder.")
    proxy_store_chat_context: bool = _s(
        "PROXY_STORE_CHAT_CONTEXT", True, v.boolean, "Store each chat turn (needed for chat history).")
    proxy_forward_chat_context: bool = _s(
        "PROXY_FORWARD_CHAT_CONTEXT", False, v.boolean,
        "Prepend stored turns to requests. Off by default as in upstream v7.10+: clients send the history.")
    models_config_path: str = _s(
        "MODELS_CONFIG_PATH", "models-config.json", v.text, "Path of models-config.json (provider backends).")
    models_config_content: str | None = _s(
        "MODELS_CONFIG_CONTENT", None, v.optional_text,
        "JSON written to MODELS_CONFIG_PATH when that file does not exist yet.")
    rating_config_path: str = _s(
        "RATING_CONFIG_PATH", "rating-config.json", v.text, "Path of rating-config.json; missing → defaults.")
    cookie_file_path: str = _s(
        "COOKIE_FILE_PATH", ".cookie", v.text, "Path of the admin credentials file (admin:<password>).")
    cookie_content: Secret | None = _s(  # noqa: RUF009 - _s returns a dataclasses.field
        "COOKIE_CONTENT", None, v.secret, "Admin password to use instead of a random one.")
    auth_config_file_path: str = _s(
        "AUTH_CONFIG_FILE_PATH", "proxy.conf", v.text, "Path of proxy.conf (API users and permissions).")
    llm_timeout: dt.timedelta = _s(  # noqa: RUF009 - _s returns a dataclasses.field
        "LLM_TIMEOUT", _seconds(240), v.duration, "Provider → backend LLM request timeout (Go duration).")
    cnode_pnode_timeout: dt.timedelta = _s(  # noqa: RUF009 - _s returns a dataclasses.field
        "CNODE_PNODE_TIMEOUT", _seconds(90), v.duration, "How long a consumer waits for a provider's first reply.")
    cnode_pnode_max_retries: int = _s(
        "CNODE_PNODE_MAX_RETRIES", 3, v.non_negative_int, "Consumer retries of a failed provider request.")
    log_level_app: str = _s("LOG_LEVEL_APP", "debug", v.log_level, "Log level of the application.")
    log_level_tcp: str = _s("LOG_LEVEL_TCP", "info", v.log_level, "Log level of the MOR-RPC server.")
    log_level_eth_rpc: str = _s("LOG_LEVEL_ETH_RPC", "info", v.log_level, "Log level of chain RPC calls.")
    log_level_storage: str = _s("LOG_LEVEL_STORAGE", "info", v.log_level, "Log level of storage.")
    log_color: bool = _s("LOG_COLOR", False, v.boolean, "Colour console logs.")
    log_json: bool = _s("LOG_JSON", False, v.boolean, "Write logs as JSON lines.")
    log_is_prod: bool = _s("LOG_IS_PROD", False, v.boolean, "Production log format.")
    log_folder_path: str | None = _s(
        "LOG_FOLDER_PATH", None, v.optional_text, "Folder for log files. Empty: <data folder>/logs.")
    environment: str = _s("ENVIRONMENT", "development", v.text, "development or production (labels only).")
    provider_allow_list: tuple[str, ...] = _s(
        "PROVIDER_ALLOW_LIST", (), v.address_list,
        "Deprecated upstream: comma-separated providers, merged into rating-config.json's allowlist.")
    openai_base_url: str | None = _s(
        "OPENAI_BASE_URL", None, v.optional_http_url,
        "Legacy: backend for the default model when models-config.json has no entry. Prefer models-config.json.")
    failover_enabled: bool = _s(
        "FAILOVER_ENABLED", True, v.boolean, "Switch to the next-best provider when one fails mid-chat.")
    provider_force: bool = _s(
        "PROVIDER_FORCE", False, v.boolean, "Serve MOR-RPC even if this wallet is not a registered provider.")
    mor_data_dir: str | None = _s(
        "MOR_DATA_DIR", None, v.optional_text, "Data folder (database, devnet state). Empty: the platform's.")

    # Not settings: where each value came from, and what the loader saw but did not use.
    origins: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)
    ignored: tuple[str, ...] = field(default=(), compare=False, repr=False)
    extra_args: tuple[str, ...] = field(default=(), compare=False, repr=False)
    base_dir: Path | None = field(default=None, compare=False, repr=False)

    @property
    def has_wallet_private_key(self) -> bool:
        """Whether WALLET_PRIVATE_KEY was given (the key itself stays in the Secret)."""
        return self.wallet_private_key is not None

    @property
    def public_url(self) -> str:
        """WEB_PUBLIC_URL, else http://localhost:<port of WEB_ADDRESS>."""
        if self.web_public_url:
            return self.web_public_url.rstrip("/")
        return f"http://localhost:{self.web_address.rpartition(':')[2]}"

    def resolve(self, path: str) -> Path:
        """A path setting made absolute: relative paths are taken from ``base_dir`` (see ``load_settings``)."""
        p = Path(path).expanduser()
        if p.is_absolute() or self.base_dir is None:
            return p
        return self.base_dir / p


@dataclass(frozen=True, slots=True)
class SettingSpec:
    """One declared setting."""

    attr: str
    env: str
    flag: str
    default: Any
    parse: Parser
    help: str


def _specs() -> tuple[SettingSpec, ...]:
    return tuple(
        SettingSpec(f.name, f.metadata["env"], "--" + f.metadata["env"].lower().replace("_", "-"), f.default,
                    f.metadata["parse"], f.metadata["help"])
        for f in dataclasses.fields(Settings)
        if "env" in f.metadata
    )


SPECS = _specs()
SPECS_BY_ENV = {s.env: s for s in SPECS}
_SPECS_BY_FLAG = {s.flag: s for s in SPECS}


def parse_cli(argv: Sequence[str]) -> tuple[dict[str, str], list[str]]:
    """Split ``argv`` into {ENV_NAME: text} for known flags and the remaining arguments.

    Flags are ``--kebab-case value`` or ``--kebab-case=value`` (one dash also works, as with Go's flag
    package); a boolean flag alone means true.
    """
    found: dict[str, str] = {}
    rest: list[str] = []
    i = 0
    while i < len(argv):
        arg = argv[i]
        i += 1
        name, eq, inline = arg.partition("=")
        key = "-" + name if name.startswith("-") and not name.startswith("--") else name
        spec = _SPECS_BY_FLAG.get(key)
        if spec is None:
            rest.append(arg)
            continue
        if eq:
            found[spec.env] = inline
        elif spec.parse is v.boolean:
            found[spec.env] = "true"
        elif i < len(argv):
            found[spec.env] = argv[i]
            i += 1
        else:
            raise ConfigError(f"{spec.flag} needs a value ({spec.help})")
    return found, rest


def load_settings_file(path: Path) -> dict[str, str]:
    """The GUI's settings file: a JSON object of ENV_NAME → value; missing file → empty."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as e:
        raise ConfigError(f"{path}: invalid JSON at line {e.lineno}: {e.msg}. Fix or delete the file.") from e
    except OSError as e:
        raise ConfigError(f"{path}: cannot be read ({e.strerror}).") from e
    if not isinstance(data, dict):
        raise ConfigError(f'{path}: expected a JSON object such as {{"WEB_ADDRESS": "127.0.0.1:8082"}}.')
    out: dict[str, str] = {}
    for key, value in data.items():
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, str | int | float):
            out[key] = str(value)
        elif isinstance(value, list) and all(isinstance(x, str) for x in value):
            out[key] = ",".join(value)
        else:
            raise ConfigError(f"{path}: {key} must be a string, number, boolean or list of strings.")
    return out


def write_settings_file(path: Path, updates: Mapping[str, str]) -> None:
    """Merge ``updates`` (ENV_NAME → text) into the settings file, validating each first; secrets refused.

    The GUI calls this; values land below env and .env in precedence, so an operator's env still wins.
    """
    for name, raw in updates.items():
        spec = SPECS_BY_ENV.get(name)
        if spec is None:
            raise ConfigError(f"{name} is not a setting of this node.")
        if spec.parse is v.secret:
            raise ConfigError(f"{name} is a secret and is never written to the settings file.")
        spec.parse(raw, name)
    current = load_settings_file(path)
    current.update(updates)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(current, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def _is_ignored(name: str) -> bool:
    return name in IGNORED_NAMES or name.startswith(IGNORED_PREFIXES)


def load_settings(
    argv: Sequence[str] = (),
    environ: Mapping[str, str] | None = None,
    dotenv_path: Path | None = None,
    settings_path: Path | None = None,
) -> Settings:
    """Build Settings from the four sources; ConfigError names the first invalid variable and its source.

    ``dotenv_path`` defaults to ``./.env`` (as the Go router reads it). Relative file settings are later
    resolved against the folder of that ``.env`` when it exists, else against the data folder.
    """
    environ = os.environ if environ is None else environ
    dotenv_path = Path(".env") if dotenv_path is None else dotenv_path
    cli, rest = parse_cli(argv)
    layers: list[tuple[str, Mapping[str, str]]] = [
        ("flag", cli),
        ("env", environ),
        (str(dotenv_path), load_dotenv(dotenv_path)),
        (str(settings_path), load_settings_file(settings_path) if settings_path else {}),
    ]
    chosen: dict[str, Any] = {}
    origins: dict[str, str] = {}
    for spec in SPECS:
        for origin, layer in layers:
            if spec.env in layer:
                where = spec.flag if origin == "flag" else spec.env
                chosen[spec.attr] = spec.parse(layer[spec.env], where)
                origins[spec.attr] = origin
                break
        else:
            origins[spec.attr] = "default"
    ignored = sorted({name for _, layer in layers[1:] for name in layer if _is_ignored(name)})
    for name in ignored:
        log.debug("%s is an upstream setting this node does not use: ignored", name)
    if dotenv_path.is_file():
        base = dotenv_path.resolve().parent
    else:
        data = chosen.get("mor_data_dir")
        base = Path(data) if data else data_dir()
    return Settings(**chosen, origins=origins, ignored=tuple(ignored), extra_args=tuple(rest), base_dir=base)
