"""The node's logging for desktop and headless: the Go router's LOG_* settings, a private rotating file, redaction."""

from __future__ import annotations

import io
import logging
import logging.handlers
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from app.bootstrap.log_format import ConsoleFormatter, JsonLineFormatter
from app.bootstrap.log_redaction import RedactionFilter
from app.errors import ConfigError

if TYPE_CHECKING:
    from app.config.settings import Settings

LOG_FILE = "mor-node.log"
MAX_FILE_BYTES = 10 * 1024 * 1024
BACKUP_FILES = 5

# zap level names (as LOG_LEVEL_* accept them) → Python levels; dpanic/panic/fatal have no Python twin.
ZAP_LEVELS: Mapping[str, int] = {
    "debug": logging.DEBUG, "info": logging.INFO, "warn": logging.WARNING, "warning": logging.WARNING,
    "error": logging.ERROR, "dpanic": logging.CRITICAL, "panic": logging.CRITICAL, "fatal": logging.CRITICAL,
}  # fmt: skip

# The Go router's log components and the loggers that play their part here. APP is the "app" logger itself, so it
# covers every module not listed below.
TCP_LOGGERS = ("app.router.provider.server", "app.router.morrpc", "app.router.consumer.client")
# The embedded anvil's output is its log of served RPC calls (one line per call), so it goes with ETH_RPC.
ETH_RPC_LOGGERS = ("app.chain", "web3", "app.devnet.anvil")
STORAGE_LOGGERS = ("app.storage",)
APP_LOGGER = "app"


def zap_level(name: str) -> int:
    """The Python level of a zap level name (any case); ConfigError for anything else."""
    try:
        return ZAP_LEVELS[name.strip().lower()]
    except KeyError:
        raise ConfigError(f"Unknown log level {name!r}: use one of {', '.join(ZAP_LEVELS)}.") from None


@dataclass(frozen=True)
class LogConfig:
    """What the LOG_* settings ask for, as Python levels and switches."""

    app: int = logging.DEBUG
    tcp: int = logging.INFO
    eth_rpc: int = logging.INFO
    storage: int = logging.INFO
    colour: bool = False  # LOG_COLOR: colour the console's level names (only on a terminal)
    json: bool = False  # LOG_JSON: console and file as JSON lines
    prod: bool = False  # LOG_IS_PROD: zap's production time stamps (Unix seconds) instead of ISO 8601
    folder: Path | None = None  # LOG_FOLDER_PATH; None: the caller's default

    @classmethod
    def from_settings(cls, settings: Settings) -> LogConfig:
        """The LogConfig of parsed Settings (their levels are already validated zap names)."""
        folder = Path(settings.log_folder_path).expanduser() if settings.log_folder_path else None
        return cls(app=zap_level(settings.log_level_app), tcp=zap_level(settings.log_level_tcp),
                   eth_rpc=zap_level(settings.log_level_eth_rpc), storage=zap_level(settings.log_level_storage),
                   colour=settings.log_color, json=settings.log_json, prod=settings.log_is_prod,
                   folder=folder)  # fmt: skip

    def levels(self) -> dict[str, int]:
        """Logger name → level. Third-party loggers (the root) log at INFO, or at APP's level when it is stricter:
        the Go router's APP level covers its own code, not its libraries' debug chatter."""
        levels = {"": max(self.app, logging.INFO), APP_LOGGER: self.app}
        levels.update(dict.fromkeys(TCP_LOGGERS, self.tcp))
        levels.update(dict.fromkeys(ETH_RPC_LOGGERS, self.eth_rpc))
        levels.update(dict.fromkeys(STORAGE_LOGGERS, self.storage))
        return levels


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A RotatingFileHandler whose files are created readable by the owner only (0600), rotated ones included."""

    def _open(self) -> io.TextIOWrapper:
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        if hasattr(os, "fchmod"):
            os.fchmod(fd, 0o600)  # a file left by an older version may be world-readable
        return open(fd, "a", encoding=self.encoding, errors=self.errors)  # the handler closes it


@dataclass
class InstalledLogging:
    """Handlers and levels put in place by :func:`install_logging`; :meth:`uninstall` puts the old ones back."""

    file: Path
    handlers: list[logging.Handler]
    previous_levels: dict[str, int] = field(default_factory=dict)

    def uninstall(self) -> None:
        """Remove and close this setup's handlers and restore the levels it changed."""
        global _installed
        root = logging.getLogger()
        for handler in self.handlers:
            root.removeHandler(handler)
            handler.close()
        for name, level in self.previous_levels.items():
            logging.getLogger(name or None).setLevel(level)
        self.handlers = []
        if _installed is self:
            _installed = None


_installed: InstalledLogging | None = None


def uninstall_logging() -> None:
    """Undo the current :func:`install_logging` setup, if any (tests; a desktop app that set up its log itself)."""
    if _installed is not None:
        _installed.uninstall()


def _file_handler(folder: Path, name: str) -> PrivateRotatingFileHandler:
    path = folder / name
    try:
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        return PrivateRotatingFileHandler(path, maxBytes=MAX_FILE_BYTES, backupCount=BACKUP_FILES, encoding="utf-8")
    except OSError as e:
        raise ConfigError(f"Cannot write the log file {path}: {e.strerror or e}. "
                          "Set LOG_FOLDER_PATH to a writable folder.") from e  # fmt: skip


def install_logging(config: LogConfig, *, default_folder: Path, console: TextIO | None = None,
                    file_name: str = LOG_FILE) -> InstalledLogging:
    """Log to ``<LOG_FOLDER_PATH or default_folder>/<file_name>`` (rotating, 0600) and, when given, to ``console``,
    with the per-component levels of ``config``; every record passes the redaction filter first.

    Replaces the handlers of an earlier call. ConfigError when the log file cannot be written.
    """
    if _installed is not None:
        _installed.uninstall()
    file_handler = _file_handler(config.folder or default_folder, file_name)
    file_handler.setFormatter(JsonLineFormatter(epoch_time=config.prod) if config.json
                              else ConsoleFormatter(epoch_time=config.prod))  # fmt: skip
    handlers: list[logging.Handler] = [file_handler]
    if console is not None:
        stream = logging.StreamHandler(console)
        colour = config.colour and not config.json and console.isatty()
        stream.setFormatter(JsonLineFormatter(epoch_time=config.prod) if config.json
                            else ConsoleFormatter(colour=colour, epoch_time=config.prod))  # fmt: skip
        handlers.append(stream)
    return _install(config, handlers, Path(file_handler.baseFilename))


def _install(config: LogConfig, handlers: list[logging.Handler], file: Path) -> InstalledLogging:
    global _installed
    redaction = RedactionFilter()
    root = logging.getLogger()
    for handler in handlers:
        handler.addFilter(redaction)
        root.addHandler(handler)
    installed = InstalledLogging(file, handlers)
    for name, level in config.levels().items():
        logger = logging.getLogger(name or None)
        installed.previous_levels[name] = logger.level
        logger.setLevel(level)
    _installed = installed
    return installed
