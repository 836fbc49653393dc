"""Against a real Secret Service (gnome-keyring under dbus-run-session): the Go router's names, both ways."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from wallet.vectors import DEV_ADDRESS_1, DEV_MNEMONIC

REPO = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("secret_service_script.py")
TOOLS = ("dbus-run-session", "gnome-keyring-daemon", "secret-tool")
# gnome-keyring creates the "login" collection only when unlocked with a non-empty password on stdin; with an
# empty one it would need a GUI prompt, which cannot appear here.
SESSION = (
    'printf %s "$KEYRING_PASSWORD" | gnome-keyring-daemon --daemonize --unlock --components=secrets >/dev/null'
    ' && exec "$PYTHON" "$SCRIPT" "$MOR_DATA_DIR"'
)


@pytest.mark.secretservice
def test_wallet_in_gnome_keyring_uses_the_go_routers_names(tmp_path: Path) -> None:
    found = {tool: shutil.which(tool) for tool in TOOLS}
    missing = [tool for tool, path in found.items() if path is None]
    if missing:
        pytest.skip(f"Secret Service test needs {', '.join(missing)} (Debian: dbus gnome-keyring libsecret-tools)")
    home = tmp_path / "home"
    runtime = tmp_path / "run"
    for folder in (home, runtime):
        folder.mkdir(mode=0o700)
    env = {
        "PATH": os.environ["PATH"],
        "HOME": str(home),
        "XDG_RUNTIME_DIR": str(runtime),
        "XDG_DATA_HOME": str(home / ".local" / "share"),
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "tests")]),
        "PYTHON": sys.executable,
        "SCRIPT": str(SCRIPT),
        "MOR_DATA_DIR": str(tmp_path / "data"),
        "KEYRING_PASSWORD": "throwaway-ci-keyring",
        "LANG": "C.UTF-8",
    }
    done = subprocess.run(
        [str(found["dbus-run-session"]), "--", "sh", "-c", SESSION],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["backend"] == "keyring.backends.SecretService"
    assert report["secure"] is True
    assert report["storage"] == "keychain"
    assert report["address"] == DEV_ADDRESS_1
    assert report["mnemonic"] == DEV_MNEMONIC
    assert report["path"] == "m/44'/60'/0'/0/1"
    assert report["private_key_before"] is None
    assert report["existing_after_go"] == DEV_ADDRESS_1
    assert report["unlocked_after_go"] == DEV_ADDRESS_1
    assert report["after_reset"] == [None, None, None]
