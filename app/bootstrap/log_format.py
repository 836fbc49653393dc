"""Log line formats after the Go router's zap encoders: JSON objects (ts, level, logger, msg) or console text."""

from __future__ import annotations

import json
import logging
from datetime import datetime

# zap's level names; Python's CRITICAL has no exact twin (zap's dpanic/panic/fatal all map onto it).
_ZAP_NAMES = {logging.DEBUG: "debug", logging.INFO: "info", logging.WARNING: "warn", logging.ERROR: "error",
              logging.CRITICAL: "fatal"}  # fmt: skip
# zap's CapitalColorLevelEncoder colours.
_COLOURS = {"DEBUG": "35", "INFO": "34", "WARN": "33", "ERROR": "31", "FATAL": "31"}


def zap_name(levelno: int) -> str:
    """The zap name of a Python level (levels between the standard ones take the one below)."""
    return next((name for no, name in sorted(_ZAP_NAMES.items(), reverse=True) if levelno >= no), "debug")


def _timestamp(record: logging.LogRecord, epoch: bool) -> float | str:
    # zap's production encoder writes Unix seconds; its development encoder ISO 8601 in local time.
    if epoch:
        return round(record.created, 6)
    return datetime.fromtimestamp(record.created).astimezone().isoformat(timespec="milliseconds")


def _details(formatter: logging.Formatter, record: logging.LogRecord) -> str:
    """The traceback and stack text of a record, if any (cached on the record like logging.Formatter does)."""
    if record.exc_info and not record.exc_text:
        record.exc_text = formatter.formatException(record.exc_info)
    parts = [part for part in (record.exc_text, record.stack_info and formatter.formatStack(record.stack_info)) if part]
    return "\n".join(parts)


class JsonLineFormatter(logging.Formatter):
    """One JSON object per line: ts, level, logger, caller, msg and, for exceptions, stacktrace."""

    def __init__(self, *, epoch_time: bool = False) -> None:
        super().__init__()
        self.epoch_time = epoch_time

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "ts": _timestamp(record, self.epoch_time),
            "level": zap_name(record.levelno),
            "logger": record.name,
            "caller": f"{record.filename}:{record.lineno}",
            "msg": record.getMessage(),
        }
        details = _details(self, record)
        if details:
            entry["stacktrace"] = details
        # ASCII-only output survives any console encoding; newlines in messages are escaped, one object per line.
        return json.dumps(entry, ensure_ascii=True, default=str)


class ConsoleFormatter(logging.Formatter):
    """``<ts>  LEVEL  logger  msg`` (tab-separated like zap's console encoder), the level coloured if asked."""

    def __init__(self, *, colour: bool = False, epoch_time: bool = False) -> None:
        super().__init__()
        self.colour = colour
        self.epoch_time = epoch_time

    def format(self, record: logging.LogRecord) -> str:
        level = zap_name(record.levelno).upper()
        if self.colour:
            level = f"\x1b[{_COLOURS[level]}m{level}\x1b[0m"
        line = f"{_timestamp(record, self.epoch_time)}\t{level}\t{record.name}\t{record.getMessage()}"
        details = _details(self, record)
        return f"{line}\n{details}" if details else line
