"""Runs inside dbus-run-session with a fresh gnome-keyring: stores wallets through our code, reads them with
secret-tool (what zalando/go-keyring, and so the Go router, sees), and prints a JSON report on stdout."""

from __future__ import annotations

import asyncio
import json
import shutil
import subprocess
import sys
from pathlib import Path

import keyring

from app.wallet.keychain import SERVICE, is_secure_backend
from app.wallet.keystore import ScryptParams
from app.wallet.manager import RESET_CONFIRMATION, WalletManager
from app.wallet.secret import WalletSecret
from wallet.vectors import DEV_KEY_1, DEV_MNEMONIC

SECRET_TOOL = shutil.which("secret-tool") or "/usr/bin/secret-tool"


def lookup(key: str) -> str | None:
    done = subprocess.run(
        [SECRET_TOOL, "lookup", "service", SERVICE, "username", key], capture_output=True, text=True, check=False
    )
    return done.stdout if done.returncode == 0 else None


def go_store(key: str, value: str) -> None:
    """Store an item the way go-keyring does: attributes service + username only."""
    subprocess.run(
        [SECRET_TOOL, "store", f"--label=Password for '{key}' on '{SERVICE}'", "service", SERVICE, "username", key],
        input=value,
        text=True,
        check=True,
    )


def go_clear(key: str) -> None:
    subprocess.run([SECRET_TOOL, "clear", "service", SERVICE, "username", key], check=True)


async def main(data_dir: Path) -> dict[str, object]:
    backend = keyring.get_keyring()
    report: dict[str, object] = {"backend": type(backend).__module__, "secure": is_secure_backend(backend)}
    manager = WalletManager(data_dir, scrypt=ScryptParams(n=2**12), environ={})
    report["storage"] = manager.storage_kind
    report["address"] = await manager.setup("ci-app-password", WalletSecret.from_mnemonic(DEV_MNEMONIC, "1"))
    report["mnemonic"] = lookup("mnemonic")
    report["path"] = lookup("mnemonic-derivation-path")
    report["private_key_before"] = lookup("private-key")

    # The Go router replaces the wallet with a raw key (SetPrivateKey: upsert key, delete phrase + path).
    go_store("private-key", DEV_KEY_1)
    go_clear("mnemonic")
    go_clear("mnemonic-derivation-path")
    fresh = WalletManager(data_dir, scrypt=ScryptParams(n=2**12), environ={})
    report["existing_after_go"] = await fresh.find_existing_wallet()
    report["unlocked_after_go"] = await fresh.unlock("ci-app-password")

    await fresh.reset(RESET_CONFIRMATION)
    report["after_reset"] = [lookup(k) for k in ("private-key", "mnemonic", "mnemonic-derivation-path")]
    return report


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(Path(sys.argv[1])))))
