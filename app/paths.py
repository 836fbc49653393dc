"""Where the app keeps its files: platform directories, overridable by the Go router's env vars."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "morpheus-node"


def data_dir() -> Path:
    """The data folder: ``MOR_DATA_DIR`` if set, else the platform's user data directory."""
    override = os.environ.get("MOR_DATA_DIR")
    path = Path(override) if override else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_dir() -> Path:
    """The log folder: ``LOG_FOLDER_PATH`` (Go name) if set, else ``<data dir>/logs``."""
    override = os.environ.get("LOG_FOLDER_PATH")
    path = Path(override) if override else data_dir() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def resources_dir() -> Path:
    """The ``resources/`` folder, next to ``app/`` in a checkout or inside a frozen bundle."""
    frozen_root = os.environ.get("MOR_RESOURCES_DIR")
    if frozen_root:
        return Path(frozen_root)
    return Path(__file__).resolve().parent.parent / "resources"


def write_private_file(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically, readable by the owner only (mode 0600 from creation)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)
