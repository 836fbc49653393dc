"""Where the app keeps its files: platform directories, overridable by the Go router's env vars."""

from __future__ import annotations

import contextlib
import errno
import os
from pathlib import Path

import platformdirs

from app.errors import StorageError

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
    """Write ``data`` to ``path`` atomically, readable by the owner only (mode 0600 from creation).

    On failure the previous file is untouched, no partial ``.tmp`` is left, and a StorageError names the path and
    the fix (a full disk, a read-only folder, missing permissions).
    """
    tmp = path.with_name(path.name + ".tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            view = memoryview(data)
            while view:  # os.write may write less than asked (a file-size limit, a nearly full disk)
                view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except OSError as e:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
        raise StorageError(describe_write_error(path, e)) from e


def describe_write_error(path: Path, error: OSError) -> str:
    """A sentence naming why ``path`` could not be written (or removed) and what to do about it."""
    if error.errno in (errno.ENOSPC, errno.EDQUOT, errno.EFBIG):
        return (f"Cannot write {path}: the disk is full (or a file-size limit was reached). "
                "Free some disk space, then retry.")
    if error.errno == errno.EROFS:
        return (f"Cannot write {path}: its disk is mounted read-only. "
                "Remount it read-write or choose another data folder (MOR_DATA_DIR), then retry.")
    if error.errno in (errno.EACCES, errno.EPERM):
        return (f"Cannot write {path}: its folder is read-only for this user (permission denied). "
                "Make the folder writable or choose another data folder (MOR_DATA_DIR), then retry.")
    return f"Cannot write {path}: {error.strerror or error}. Check the disk and the folder, then retry."
