"""Settings: one declaration each, precedence flag > env > .env > settings file > default, clear errors."""

from __future__ import annotations

import datetime as dt
import json
import logging
from pathlib import Path

import pytest

from app.config.settings import SPECS, Settings, load_settings, parse_cli, write_settings_file
from app.errors import ConfigError

KEY = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # anvil's public dev key #0


def _load(tmp_path: Path, argv: list[str] | None = None, env: dict[str, str] | None = None,
          dotenv: str | None = None, settings: dict[str, object] | None = None) -> Settings:
    dotenv_path = tmp_path / ".env"
    if dotenv is not None:
        dotenv_path.write_text(dotenv)
    settings_path = tmp_path / "settings.json"
    if settings is not None:
        settings_path.write_text(json.dumps(settings))
    return load_settings(argv or [], env or {}, dotenv_path, settings_path)


def test_every_setting_has_an_env_name_flag_and_help() -> None:
    envs = [s.env for s in SPECS]
    assert len(envs) == len(set(envs))
    for spec in SPECS:
        assert spec.flag == "--" + spec.env.lower().replace("_", "-")
        assert spec.help.endswith(".")
    for required in ("ETH_NODE_ADDRESS", "WEB_ADDRESS", "LLM_TIMEOUT", "PROVIDER_ALLOW_LIST", "FAILOVER_ENABLED",
                     "PROVIDER_FORCE", "MOR_DATA_DIR", "MODELS_CONFIG_CONTENT", "CNODE_PNODE_MAX_RETRIES"):
        assert required in envs


def test_defaults_are_safe_and_match_upstream(tmp_path: Path) -> None:
    s = _load(tmp_path)
    assert s.web_address == "127.0.0.1:8082"
    assert s.proxy_address == "0.0.0.0:3333"
    assert s.public_url == "http://localhost:8082"
    assert s.llm_timeout == dt.timedelta(minutes=4)
    assert s.cnode_pnode_timeout == dt.timedelta(seconds=90)
    assert (s.failover_enabled, s.provider_force, s.has_wallet_private_key) == (True, False, False)
    assert s.multicall3_addr == "0xca11bde05977b3631167028862be2a173976ca11"
    assert set(s.origins.values()) == {"default"}


def test_precedence_is_flag_then_env_then_dotenv_then_settings_file(tmp_path: Path) -> None:
    s = _load(
        tmp_path,
        argv=["--web-address", "127.0.0.1:1"],
        env={"WEB_ADDRESS": "127.0.0.1:2", "LLM_TIMEOUT": "90s"},
        dotenv="WEB_ADDRESS=127.0.0.1:3\nLLM_TIMEOUT=2m\nETH_NODE_CHAIN_ID=84532\n",
        settings={"WEB_ADDRESS": "127.0.0.1:4", "LLM_TIMEOUT": "3m", "ETH_NODE_CHAIN_ID": 1,
                  "CNODE_PNODE_MAX_RETRIES": 7},
    )
    assert (s.web_address, s.origins["web_address"]) == ("127.0.0.1:1", "flag")
    assert (s.llm_timeout, s.origins["llm_timeout"]) == (dt.timedelta(seconds=90), "env")
    assert (s.eth_node_chain_id, s.origins["eth_node_chain_id"]) == (84532, str(tmp_path / ".env"))
    assert (s.cnode_pnode_max_retries, s.origins["cnode_pnode_max_retries"]) == (7, str(tmp_path / "settings.json"))


def test_cli_accepts_kebab_flags_in_go_styles_and_leaves_others(tmp_path: Path) -> None:
    found, rest = parse_cli(["--headless", "--llm-timeout=1h30m", "-eth-node-chain-id", "8453",
                             "--failover-enabled", "--eth-node-legacy-tx=false", "positional"])
    assert found == {"LLM_TIMEOUT": "1h30m", "ETH_NODE_CHAIN_ID": "8453", "FAILOVER_ENABLED": "true",
                     "ETH_NODE_LEGACY_TX": "false"}
    assert rest == ["--headless", "positional"]
    s = _load(tmp_path, argv=["--headless", "--llm-timeout=1h30m"])
    assert (s.llm_timeout, s.extra_args) == (dt.timedelta(hours=1, minutes=30), ("--headless",))


def test_flag_without_its_value_is_an_error() -> None:
    with pytest.raises(ConfigError, match="--web-address needs a value"):
        parse_cli(["--web-address"])


@pytest.mark.parametrize(("env", "message"), [
    ({"ETH_NODE_CHAIN_ID": "base"}, "ETH_NODE_CHAIN_ID='base' is invalid: expected a whole number"),
    ({"ETH_NODE_LEGACY_TX": "maybe"}, "ETH_NODE_LEGACY_TX='maybe' is invalid: expected true or false"),
    ({"WEB_ADDRESS": "localhost"}, "WEB_ADDRESS='localhost' is invalid: expected host:port"),
    ({"DIAMOND_CONTRACT_ADDRESS": "0x123"}, "DIAMOND_CONTRACT_ADDRESS='0x123' is invalid: expected an address"),
    ({"ETH_NODE_ADDRESS": "ftp://x"}, "ETH_NODE_ADDRESS='ftp://x' is invalid: expected a URL starting with http"),
    ({"LLM_TIMEOUT": "4"}, "LLM_TIMEOUT='4' is not a duration"),
    ({"LOG_LEVEL_APP": "loud"}, "LOG_LEVEL_APP='loud' is invalid: expected one of debug"),
    ({"PROVIDER_ALLOW_LIST": "0xabc"}, "PROVIDER_ALLOW_LIST contains '0xabc'"),
    ({"CNODE_PNODE_TIMEOUT": "-5s"}, "CNODE_PNODE_TIMEOUT='-5s' is invalid: expected a duration ≥ 0"),
])
def test_invalid_values_name_the_variable_the_value_and_what_is_expected(
    tmp_path: Path, env: dict[str, str], message: str
) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        _load(tmp_path, env=env)


def test_invalid_flag_value_names_the_flag(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="--eth-node-chain-id='x'"):
        _load(tmp_path, argv=["--eth-node-chain-id", "x"])


def test_private_key_presence_is_exposed_but_never_printed(tmp_path: Path) -> None:
    s = _load(tmp_path, dotenv=f"WALLET_PRIVATE_KEY={KEY}\n")
    assert s.has_wallet_private_key
    assert s.wallet_private_key is not None
    assert s.wallet_private_key.reveal() == KEY
    assert KEY not in repr(s)
    assert KEY not in str(s.wallet_private_key)


def test_provider_allow_list_is_split_and_lower_cased(tmp_path: Path) -> None:
    a, b = "0x" + "AB" * 20, "0x" + "cd" * 20
    s = _load(tmp_path, env={"PROVIDER_ALLOW_LIST": f" {a}, {b},,{a.lower()} "})
    assert s.provider_allow_list == (a.lower(), b)


def test_out_of_scope_upstream_variables_are_accepted_and_ignored(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.DEBUG, logger="app.config.settings"):
        s = _load(tmp_path, env={"IPFS_MULTADDR": "x", "TEE_PORTAL_URL": "y", "DOCKER_HOST": "z",
                                 "SYS_ENABLE": "true", "SOMETHING_ELSE": "w"})
    assert s.ignored == ("DOCKER_HOST", "IPFS_MULTADDR", "SYS_ENABLE", "TEE_PORTAL_URL")
    assert "IPFS_MULTADDR is an upstream setting this node does not use" in caplog.text


def test_relative_paths_resolve_next_to_the_dotenv_file_else_in_the_data_dir(
    tmp_path: Path, isolated_data_dir: Path
) -> None:
    with_env = _load(tmp_path, dotenv="ENVIRONMENT=production\n")
    assert with_env.resolve(with_env.models_config_path) == tmp_path.resolve() / "models-config.json"
    without = load_settings([], {}, tmp_path / "absent.env", None)
    assert without.resolve(".cookie") == isolated_data_dir / ".cookie"
    assert without.resolve("/etc/x.json") == Path("/etc/x.json")


def test_settings_file_must_be_a_json_object(tmp_path: Path) -> None:
    (tmp_path / "settings.json").write_text("[1, 2]")
    with pytest.raises(ConfigError, match="expected a JSON object"):
        load_settings([], {}, tmp_path / ".env", tmp_path / "settings.json")


def test_settings_file_booleans_and_lists_are_understood(tmp_path: Path) -> None:
    a = "0x" + "ab" * 20
    s = _load(tmp_path, settings={"FAILOVER_ENABLED": False, "PROVIDER_ALLOW_LIST": [a]})
    assert (s.failover_enabled, s.provider_allow_list) == (False, (a,))


def test_gui_settings_file_updates_are_validated_and_merged(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    write_settings_file(path, {"FAILOVER_ENABLED": "false"})
    write_settings_file(path, {"LLM_TIMEOUT": "5m"})
    s = load_settings([], {}, tmp_path / "none.env", path)
    assert (s.failover_enabled, s.llm_timeout) == (False, dt.timedelta(minutes=5))
    with pytest.raises(ConfigError, match="LLM_TIMEOUT='soon' is not a duration"):
        write_settings_file(path, {"LLM_TIMEOUT": "soon"})
    with pytest.raises(ConfigError, match="never written to the settings file"):
        write_settings_file(path, {"WALLET_PRIVATE_KEY": KEY})
    with pytest.raises(ConfigError, match="not a setting"):
        write_settings_file(path, {"NO_SUCH": "1"})
    assert KEY not in path.read_text()
    assert load_settings([], {}, tmp_path / "none.env", path).llm_timeout == dt.timedelta(minutes=5)
