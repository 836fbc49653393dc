"""The Go router's LOG_* settings applied: per-component levels, JSON lines, colour, the private rotating file."""

from __future__ import annotations

import io
import json
import logging
import logging.handlers
import os
import stat
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from app.bootstrap.logs import BACKUP_FILES, LOG_FILE, InstalledLogging, LogConfig, install_logging, zap_level
from app.config.settings import load_settings
from app.errors import ConfigError

Install = Callable[..., InstalledLogging]


class Terminal(io.StringIO):
    """A console that says it is a terminal."""

    def isatty(self) -> bool:
        return True


@pytest.fixture
def install(tmp_path: Path) -> Iterator[Install]:
    """install_logging into tmp_path/logs by default; every setup is undone after the test."""
    done: list[InstalledLogging] = []

    def run(config: LogConfig | None = None, console: io.StringIO | None = None) -> InstalledLogging:
        installed = install_logging(config or LogConfig(), default_folder=tmp_path / "logs", console=console)
        done.append(installed)
        return installed

    yield run
    for installed in reversed(done):
        installed.uninstall()


def lines(path: Path) -> list[str]:
    return path.read_text(encoding="utf-8").splitlines()


def test_tcp_debug_record_is_dropped_at_tcp_info_and_kept_at_debug(install: Install) -> None:
    tcp = logging.getLogger("app.router.provider.server")
    installed = install(LogConfig(app=logging.DEBUG, tcp=logging.INFO))
    tcp.debug("frame A from the consumer")
    logging.getLogger("app.router.consumer.service").debug("app debug line")
    logging.getLogger("app.router.morrpc.framing").debug("frame B decoded")
    text = installed.file.read_text()
    assert "app debug line" in text
    assert "frame A" not in text and "frame B" not in text

    installed = install(LogConfig(app=logging.INFO, tcp=logging.DEBUG))
    tcp.debug("frame C from the consumer")
    logging.getLogger("app.router.consumer.client").debug("frame D sent")
    logging.getLogger("app.router.consumer.service").debug("app debug line 2")
    text = installed.file.read_text()
    assert "frame C" in text and "frame D" in text
    assert "app debug line 2" not in text


def test_eth_rpc_and_storage_levels_filter_chain_and_storage_loggers(install: Install) -> None:
    installed = install(LogConfig(app=logging.INFO, eth_rpc=logging.WARNING, storage=logging.ERROR))
    logging.getLogger("app.chain.client").info("connected to the RPC")
    logging.getLogger("app.chain.tx").warning("tx stuck")
    logging.getLogger("app.storage.schema").warning("schema note")
    logging.getLogger("app.storage.store").error("disk full")
    logging.getLogger("app.devnet.anvil").info("anvil: eth_blockNumber")
    logging.getLogger("app.gui.controller").info("window shown")
    text = installed.file.read_text()
    assert "connected to the RPC" not in text and "schema note" not in text and "eth_blockNumber" not in text
    assert "tx stuck" in text and "disk full" in text and "window shown" in text


def test_third_party_debug_stays_out_even_when_app_is_at_debug(install: Install) -> None:
    installed = install(LogConfig(app=logging.DEBUG))
    logging.getLogger("aiohttp.client").debug("library chatter")
    logging.getLogger("aiohttp.client").info("library news")
    text = installed.file.read_text()
    assert "library chatter" not in text and "library news" in text


def test_uninstall_restores_the_levels_it_changed(install: Install) -> None:
    chain = logging.getLogger("app.chain")
    before = chain.level
    install(LogConfig(eth_rpc=logging.ERROR)).uninstall()
    assert chain.level == before
    assert not any(isinstance(h, logging.handlers.RotatingFileHandler) for h in logging.getLogger().handlers)


@pytest.mark.parametrize(("name", "level"), [
    ("debug", logging.DEBUG), ("INFO", logging.INFO), ("warn", logging.WARNING), ("error", logging.ERROR),
    ("dpanic", logging.CRITICAL), ("panic", logging.CRITICAL), ("fatal", logging.CRITICAL),
])  # fmt: skip
def test_zap_level_names_map_to_python_levels(name: str, level: int) -> None:
    assert zap_level(name) == level


def test_unknown_level_name_is_a_config_error_listing_the_names() -> None:
    with pytest.raises(ConfigError, match=r"trace.*debug, info"):
        zap_level("trace")


def test_log_settings_from_env_become_the_config(tmp_path: Path) -> None:
    environ = {"LOG_LEVEL_APP": "warn", "LOG_LEVEL_TCP": "debug", "LOG_LEVEL_ETH_RPC": "error",
               "LOG_LEVEL_STORAGE": "fatal", "LOG_COLOR": "true", "LOG_JSON": "true", "LOG_IS_PROD": "true",
               "LOG_FOLDER_PATH": str(tmp_path / "mylogs")}  # fmt: skip
    config = LogConfig.from_settings(load_settings([], environ=environ, dotenv_path=tmp_path / ".env"))
    assert config == LogConfig(app=logging.WARNING, tcp=logging.DEBUG, eth_rpc=logging.ERROR,
                               storage=logging.CRITICAL, colour=True, json=True, prod=True,
                               folder=tmp_path / "mylogs")  # fmt: skip


def test_json_output_is_one_zap_shaped_object_per_line(install: Install) -> None:
    console = io.StringIO()
    installed = install(LogConfig(json=True), console)
    log = logging.getLogger("app.router.api.server")
    log.warning("two\nlines and a \"quote\"")
    try:
        raise ValueError("boom")
    except ValueError:
        log.exception("request %s failed", "GET /x")
    for text in (console.getvalue(), installed.file.read_text()):
        records = [json.loads(line) for line in text.splitlines()]
        assert [(r["level"], r["logger"], r["msg"]) for r in records] == [
            ("warn", "app.router.api.server", 'two\nlines and a "quote"'),
            ("error", "app.router.api.server", "request GET /x failed"),
        ]
        assert "ValueError: boom" in records[1]["stacktrace"]
        assert "T" in records[0]["ts"] and records[0]["caller"].startswith("test_node_logging.py:")


def test_prod_json_time_stamps_are_unix_seconds(install: Install) -> None:
    console = io.StringIO()
    install(LogConfig(json=True, prod=True), console)
    logging.getLogger("app").info("hello")
    ts = json.loads(console.getvalue())["ts"]
    assert isinstance(ts, float) and abs(ts - time.time()) < 60


def test_level_is_coloured_on_a_terminal_when_log_color_is_on(install: Install) -> None:
    terminal, pipe = Terminal(), io.StringIO()
    install(LogConfig(colour=True), terminal)
    logging.getLogger("app").info("on a tty")
    install(LogConfig(colour=True), pipe)
    logging.getLogger("app").info("into a pipe")
    install(LogConfig(colour=False), Terminal())
    assert "\x1b[34mINFO\x1b[0m\tapp\ton a tty" in terminal.getvalue()
    assert "\x1b[" not in pipe.getvalue() and "\tINFO\tapp\tinto a pipe" in pipe.getvalue()


def test_log_file_is_created_owner_only_in_log_folder_path(install: Install, tmp_path: Path) -> None:
    installed = install(LogConfig(folder=tmp_path / "operator-logs"))
    logging.getLogger("app").info("first line")
    assert installed.file == tmp_path / "operator-logs" / LOG_FILE
    assert "first line" in installed.file.read_text()
    if os.name == "posix":
        assert stat.S_IMODE(installed.file.stat().st_mode) == 0o600


@pytest.mark.skipif(os.name != "posix", reason="POSIX file modes")
def test_world_readable_log_file_from_before_is_made_owner_only(install: Install, tmp_path: Path) -> None:
    old = tmp_path / "logs" / LOG_FILE
    old.parent.mkdir()
    old.write_text("an old line\n")
    old.chmod(0o644)
    install()
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
    assert old.read_text() == "an old line\n"  # appended to, not truncated


def test_log_file_rotates_keeping_private_backups(install: Install) -> None:
    installed = install()
    handler = installed.handlers[0]
    assert isinstance(handler, logging.handlers.RotatingFileHandler)
    handler.maxBytes = 2000  # the real limit is 10 MB; rotation itself is what is under test
    for i in range(400):
        logging.getLogger("app").info("line %04d %s", i, "x" * 60)
    backups = sorted(installed.file.parent.glob(LOG_FILE + ".*"))
    assert [p.name for p in backups] == [f"{LOG_FILE}.{i}" for i in range(1, BACKUP_FILES + 1)]
    assert installed.file.stat().st_size <= 2000
    assert "line 0399" in installed.file.read_text()
    if os.name == "posix":
        assert {stat.S_IMODE(p.stat().st_mode) for p in [installed.file, *backups]} == {0o600}


def test_unwritable_log_folder_is_a_config_error_naming_the_setting(install: Install, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    with pytest.raises(ConfigError, match="LOG_FOLDER_PATH"):
        install(LogConfig(folder=blocker / "logs"))
