"""`mor-launch devnet` as a real process: prints where everything is, funds addresses, stops cleanly on SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from devnet_rpc import needs_anvil, pid_alive, result

_REPO = Path(__file__).resolve().parents[2]
_WALLET = "0x000000000000000000000000000000000000bEEF"


def _launcher(*args: str) -> list[str]:
    return [sys.executable, str(_REPO / "mor-launch.py"), "devnet", *args]


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def _read_until(proc: subprocess.Popen[str], marker: str, within: float = 60.0) -> str:
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        lines.append(line)
        if marker in line:
            return "".join(lines)
    raise AssertionError(f"{marker!r} never printed; output so far:\n{''.join(lines)}")


@needs_anvil
@pytest.mark.slow  # a full anvil devnet + deploy in a fresh interpreter (~3 s)
async def test_devnet_command_prints_addresses_funds_and_stops_on_sigterm(tmp_path: Path) -> None:
    proc = subprocess.Popen(  # noqa: ASYNC220 - starting it is instant; all waiting happens off the loop
        _launcher("--engine", "anvil", "--data-dir", str(tmp_path)),
        cwd=_REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        out = await asyncio.to_thread(_read_until, proc, "Press Ctrl-C")
        rpc_url = re.search(r"RPC URL\s+(\S+)", out)
        assert rpc_url is not None, out
        for label in ("Chain ID         31337", "Engine           anvil", "Diamond ", "MOR token", "Multicall3"):
            assert label in out
        assert re.search(r"Funding account\s+0x[0-9a-fA-F]{40}", out)
        assert "mor-launch devnet" in out
        assert "fund 0x" in out
        anvil_pids = _children(proc.pid)
        assert anvil_pids

        fund = await asyncio.to_thread(
            subprocess.run,
            _launcher("--data-dir", str(tmp_path), "fund", _WALLET, "--eth", "2", "--mor", "5"),
            cwd=_REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert fund.returncode == 0, fund.stderr
        assert int(await result(rpc_url.group(1), "eth_getBalance", _WALLET, "latest"), 16) == 2 * 10**18

        proc.send_signal(signal.SIGTERM)
        assert await asyncio.to_thread(proc.wait, 30) == 0
        assert all(not pid_alive(pid) for pid in anvil_pids)
        assert (tmp_path / "devnet" / "anvil-state.json").is_file()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            assert stream is not None
            stream.close()


def test_fund_without_a_running_devnet_is_one_clear_line(tmp_path: Path) -> None:
    done = subprocess.run(
        _launcher("--data-dir", str(tmp_path), "fund", _WALLET), cwd=_REPO, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 1
    assert done.stderr.strip().count("\n") == 0
    assert "No devnet is running" in done.stderr
    assert "Traceback" not in done.stderr


def test_bad_option_is_one_line_and_exit_code_1() -> None:
    done = subprocess.run(
        _launcher("--engine", "geth"), cwd=_REPO, capture_output=True, text=True, timeout=60, env=os.environ.copy()
    )
    assert done.returncode == 1
    assert "invalid choice" in done.stderr
    assert done.stderr.strip().count("\n") == 0
