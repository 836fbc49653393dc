"""`.cookie` and `proxy.conf`: created 0600, rpcauth lines an independent HMAC accepts, whitelists as upstream."""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import stat
from pathlib import Path

import pytest

from app.errors import ApiError, ConfigError
from app.router.api.auth import AuthConfig, ProxyConf
from tests.router.api.api_env import basic


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _independent_check(line: str, user: str, password: str) -> bool:
    key, _, value = line.partition("=")
    name, _, rest = value.partition(":")
    salt_hex, _, digest = rest.partition("$")
    expected = hmac.new(bytes.fromhex(salt_hex), password.encode(), hashlib.sha256).hexdigest()
    return key == "rpcauth" and name == user and len(salt_hex) == 32 and digest == expected


def test_first_start_creates_cookie_and_proxy_conf_private(tmp_path: Path) -> None:
    auth = AuthConfig.load(tmp_path / ".cookie", tmp_path / "proxy.conf")
    cookie = (tmp_path / ".cookie").read_text()
    user, _, password = cookie.strip().partition(":")
    assert user == "admin" and len(password) == 32 and password.isalnum()
    assert auth.admin_password == password
    if os.name == "posix":
        assert _mode(tmp_path / ".cookie") == 0o600
        assert _mode(tmp_path / "proxy.conf") == 0o600
    lines = (tmp_path / "proxy.conf").read_text().splitlines()
    assert any(_independent_check(ln, "admin", password) for ln in lines)
    assert "rpcwhitelist=admin:*" in lines


def test_cookie_content_sets_the_admin_password(tmp_path: Path) -> None:
    auth = AuthConfig.load(tmp_path / ".cookie", tmp_path / "proxy.conf", "s3cret-pass")
    assert (tmp_path / ".cookie").read_text() == "admin:s3cret-pass\n"
    assert auth.authenticate(basic("admin", "s3cret-pass")["Authorization"]) == "admin"
    assert auth.authenticate(basic("admin", "wrong")["Authorization"]) is None


def test_added_user_line_verifies_with_an_independent_hmac(tmp_path: Path) -> None:
    auth = AuthConfig.load(tmp_path / ".cookie", tmp_path / "proxy.conf")
    auth.add_user("agent", "agent-password", ["chat", "get_balance"])
    lines = (tmp_path / "proxy.conf").read_text().splitlines()
    assert any(_independent_check(ln, "agent", "agent-password") for ln in lines)
    assert "rpcwhitelist=agent:chat,get_balance" in lines
    reloaded = AuthConfig.load(tmp_path / ".cookie", tmp_path / "proxy.conf")
    assert reloaded.authenticate(basic("agent", "agent-password")["Authorization"]) == "agent"
    assert reloaded.allowed("agent", "chat") and not reloaded.allowed("agent", "send_mor")


def test_go_router_files_are_read_and_admin_reseeded_from_the_cookie(tmp_path: Path) -> None:
    salt = bytes(range(16))
    digest = hmac.new(salt, b"pw-of-bob", hashlib.sha256).hexdigest()
    (tmp_path / ".cookie").write_text("admin:from-cookie\n")
    (tmp_path / "proxy.conf").write_text(f"# kept\nrpcauth=bob:{salt.hex()}${digest}\nrpcwhitelist=bob:get_balance\n"
                                         "rpcwhitelistdefault=1\n")
    auth = AuthConfig.load(tmp_path / ".cookie", tmp_path / "proxy.conf")
    assert auth.authenticate(basic("bob", "pw-of-bob")["Authorization"]) == "bob"
    assert auth.authenticate(basic("admin", "from-cookie")["Authorization"]) == "admin"
    assert auth.allowed("admin", "anything") and auth.allowed("bob", "get_balance")
    assert not auth.allowed("bob", "chat")
    text = (tmp_path / "proxy.conf").read_text()
    assert "# kept" in text and "rpcwhitelistdefault=1" in text


def test_group_readable_files_are_reported(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / ".cookie").write_text("admin:pw\n")
    os.chmod(tmp_path / ".cookie", 0o644)
    with caplog.at_level(logging.WARNING):
        AuthConfig.load(tmp_path / ".cookie", tmp_path / "proxy.conf")
    assert any("chmod 600" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize(
    ("conf", "allowed"),
    [
        ("", True),  # no whitelist anywhere: everyone may call everything
        ("rpcwhitelist=other:chat\n", False),  # bitcoind: any whitelist makes unlisted users empty
        ("rpcwhitelist=other:chat\nrpcwhitelistdefault=0\n", True),
        ("rpcwhitelistdefault=1\n", False),
    ],
)
def test_user_without_whitelist_follows_the_default(conf: str, allowed: bool) -> None:
    assert (ProxyConf.parse(conf, "proxy.conf").permissions("carol") == frozenset({"*"})) is allowed


@pytest.mark.parametrize("line", ["rpcauth=bob", "rpcauth=bob:zz$00", "rpcwhitelistdefault=2", "garbage"])
def test_malformed_proxy_conf_names_the_line(line: str) -> None:
    with pytest.raises(ConfigError, match="line 1"):
        ProxyConf.parse(line + "\n", "proxy.conf")


def test_limited_user_cannot_grant_more_than_it_holds(tmp_path: Path) -> None:
    auth = AuthConfig.load(tmp_path / ".cookie", tmp_path / "proxy.conf")
    auth.add_user("ops", "pw", ["add_user", "chat"])
    auth.authorize_change("ops", "bot", ["chat"])
    for target, perms in (("bot", ["send_mor"]), ("bot", ["*"]), ("admin", ["chat"])):
        with pytest.raises(ApiError) as err:
            auth.authorize_change("ops", target, perms)
        assert err.value.status == 403


@pytest.mark.parametrize("header", [None, "", "Bearer x", "Basic !!!", "Basic " + "YWRtaW4=", "Basic Ym9iOng="])
def test_malformed_or_unknown_credentials_are_rejected(tmp_path: Path, header: str | None) -> None:
    auth = AuthConfig.load(tmp_path / ".cookie", tmp_path / "proxy.conf")
    assert auth.authenticate(header) is None
