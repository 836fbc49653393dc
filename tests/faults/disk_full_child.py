"""Child process for the disk-full tests: runs one write-heavy operation on a folder and prints what happened as
JSON. The parent starts it with a file-size limit (RLIMIT_FSIZE, SIGXFSZ ignored, so writes fail with EFBIG) or
on a small tmpfs (ENOSPC), so the limit never touches the test runner's own files."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
from pathlib import Path
from typing import Any

from app.errors import AppError
from app.router.api.auth import ADMIN, AuthConfig
from app.storage.store import AsyncStorage
from app.wallet.filestore import EncryptedFileStore
from app.wallet.secret import WalletSecret
from tests.wallet.vectors import FAST_SCRYPT

try:
    import resource

    CAN_LIMIT_FILE_SIZE = True
except ImportError:  # Windows: no file-size limits
    CAN_LIMIT_FILE_SIZE = False

BIG = "x" * 48 * 1024  # one message: a 2 MiB disk fills after a few dozen
# anvil's public dev key #9: a throwaway key, never used outside local chains
NEW_KEY = "0x2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6"


async def fill_database(folder: Path) -> dict[str, Any]:
    """Add big chat messages until the disk refuses one; report the chat, what was committed and the error."""
    storage = await AsyncStorage.open(folder / "node.sqlite3")
    committed: list[int] = []
    chat = await storage.run(storage.sync.chats.create_chat, "filling", "0x" + "00" * 32)
    try:
        for n in range(1000):
            await storage.run(storage.sync.chats.add_message, chat.id, "user", f"{n}:{BIG}")
            committed.append(n)
        return {"chat": chat.id, "committed": committed, "error": None}
    except AppError as e:
        return {"chat": chat.id, "committed": committed, "error": e.user_message}
    finally:
        await storage.close()


def save_keystore(folder: Path) -> dict[str, Any]:
    """Replace the stored wallet with a new key (the keystore is rewritten)."""
    EncryptedFileStore(folder, FAST_SCRYPT).save(WalletSecret.from_private_key(NEW_KEY), "new-app-password")
    return {"error": None}


def change_admin_password(folder: Path) -> dict[str, Any]:
    """Rewrite ``proxy.conf`` and ``.cookie`` the way ``POST /auth/users`` does for admin."""
    auth = AuthConfig.load(folder / ".cookie", folder / "proxy.conf")
    auth.add_user(ADMIN, "a-new-admin-password-of-some-length", ["*"])
    return {"error": None}


def create_cookie(folder: Path) -> dict[str, Any]:
    """First start: create ``.cookie`` and ``proxy.conf``."""
    AuthConfig.load(folder / ".cookie", folder / "proxy.conf")
    return {"error": None}


def run(operation: str, folder: Path) -> dict[str, Any]:
    if operation == "fill-database":
        return asyncio.run(fill_database(folder))
    sync_ops = {"save-keystore": save_keystore, "change-admin-password": change_admin_password,
                "create-cookie": create_cookie}
    try:
        return sync_ops[operation](folder)
    except AppError as e:
        return {"error": e.user_message}


def limit_file_size(limit: int) -> None:
    """No file of this process may grow past ``limit`` bytes; a write beyond it fails with EFBIG, as on a full
    disk, instead of the default SIGXFSZ killing the process."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


if __name__ == "__main__":
    if len(sys.argv) > 3:
        limit_file_size(int(sys.argv[3]))
    print(json.dumps(run(sys.argv[1], Path(sys.argv[2]))))
