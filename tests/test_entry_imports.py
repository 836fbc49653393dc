"""The modules behind the wizard and unlock screens load without the chain side's heavy libraries."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _loaded_after_import(module: str, candidates: tuple[str, ...]) -> list[str]:
    """Which of ``candidates`` a fresh interpreter has in sys.modules after importing ``module``."""
    script = (
        f"import sys, json, {module}\n"
        f"print(json.dumps(sorted(m for m in {list(candidates)!r} if m in sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=60,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    return list(json.loads(done.stdout))


def test_gui_controller_imports_without_web3_or_aiohttp() -> None:
    # web3 and aiohttp cost ~0.4 s of imports; the chain side loads them on a worker thread behind the entry screen.
    assert _loaded_after_import("app.gui.controller", ("web3", "aiohttp", "app.chain.client")) == []


def test_gui_controller_imports_without_eth_account() -> None:
    # eth_account (with eth_keyfile, eth_keys, py_ecc) costs ~0.6 s; it is warmed once the entry screen shows.
    assert _loaded_after_import("app.gui.controller", ("eth_account", "py_ecc")) == []
