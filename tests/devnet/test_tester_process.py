"""The eth-tester chain runs in its own process: it never shares the app's GIL, never outlives it, fails clearly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from devnet_rpc import gone_within, pid_alive, result

from app.devnet import tester_process
from app.devnet.accounts import DEV_BALANCE_WEI, dev_addresses
from app.devnet.child import live_children
from app.devnet.tester_main import serve
from app.devnet.tester_process import READY_PREFIX, SERVE_FLAG, child_command, start_eth_tester
from app.devnet.tester_server import start_in_process
from app.errors import DevnetError

_REPO = Path(__file__).resolve().parents[2]
# A process that starts the eth-tester chain, reports its pid, then waits to be killed.
_OWNER_SCRIPT = """
import asyncio
from app.devnet.node import start_eth_tester
async def main():
    node = await start_eth_tester()
    print(node.pid, flush=True)
    await asyncio.sleep(60)
asyncio.run(main())
"""
# A process that starts the chain and lists which EVM modules it has loaded itself.
_IMPORTS_SCRIPT = """
import asyncio, json, sys
from app.devnet.node import start_eth_tester
async def main():
    node = await start_eth_tester()
    await node.stop()
    heavy = ("eth_tester", "eth", "app.devnet.tester_chain", "app.devnet.tester_server")
    print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
asyncio.run(main())
"""


def _cmdline(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/cmdline").read_bytes().decode().split("\0")


async def test_eth_tester_runs_in_a_child_process_that_is_gone_after_stop() -> None:
    node = await start_eth_tester()
    try:
        assert node.pid is not None and node.pid != os.getpid()
        assert pid_alive(node.pid)
        assert "app.devnet.tester_main" in _cmdline(node.pid)
        assert int(await result(node.rpc_url, "eth_chainId"), 16) == 31337
        balance = await result(node.rpc_url, "eth_getBalance", dev_addresses()[0], "latest")
        assert int(balance, 16) == DEV_BALANCE_WEI
    finally:
        await node.stop()
    assert not pid_alive(node.pid)
    await node.stop()  # idempotent


def test_the_app_process_never_loads_py_evm_when_it_starts_eth_tester() -> None:
    done = subprocess.run(
        [sys.executable, "-c", _IMPORTS_SCRIPT], cwd=_REPO, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout) == []


def test_eth_tester_dies_with_its_owner_even_on_sigkill() -> None:
    owner = subprocess.Popen(
        [sys.executable, "-c", _OWNER_SCRIPT], stdout=subprocess.PIPE, text=True, cwd=_REPO, env=os.environ.copy()
    )
    assert owner.stdout is not None
    chain_pid = int(owner.stdout.readline())
    assert pid_alive(chain_pid)
    owner.kill()  # no atexit, no finally: only the kernel can clean up
    owner.wait()
    owner.stdout.close()
    assert gone_within(chain_pid)


async def test_a_broken_eth_tester_install_fails_with_the_childs_error_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A package that shadows eth_tester in the child, as a half-removed install would.
    broken = tmp_path / "eth_tester"
    broken.mkdir()
    (broken / "__init__.py").write_text("raise ImportError('eth_tester is damaged (test)')\n")
    monkeypatch.setenv("PYTHONPATH", str(tmp_path))
    running_before = len(live_children)
    with pytest.raises(DevnetError) as caught:
        await start_eth_tester()
    message = caught.value.user_message
    assert "eth-tester chain process exited during start-up (exit code 1)" in message
    assert "eth_tester is damaged (test)" in message  # the child's own words, from its stderr
    assert "Reinstall the app" in message and "ANVIL_PATH" in message
    assert len(live_children) == running_before  # nothing left running


async def test_a_child_that_never_answers_times_out_with_its_output_and_is_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid_file = tmp_path / "pid"
    hang = "import os, sys, time; open(sys.argv[1], 'w').write(str(os.getpid())); print('loading genesis', flush=True)"
    hang += "; time.sleep(60)"
    monkeypatch.setattr(tester_process, "child_command", lambda chain_id: [sys.executable, "-c", hang, str(pid_file)])
    with pytest.raises(DevnetError, match=r"did not start within 1 s \(last output: loading genesis\)"):
        await start_eth_tester(startup_timeout=1.0)
    assert not pid_alive(int(pid_file.read_text()))


async def test_a_frozen_app_serves_the_chain_by_rerunning_itself_with_the_hidden_flag(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Stands in for the frozen mor-launch: the same launcher entry point, started as one executable.
    exe = tmp_path / "mor-launch"
    exe.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{_REPO / "mor-launch.py"}" "$@"\n')
    exe.chmod(0o755)
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.setattr(sys, "executable", str(exe))
    assert child_command(1337) == [str(exe), SERVE_FLAG, "--chain-id", "1337"]
    node = await start_eth_tester(chain_id=1337)
    try:
        assert node.pid is not None
        assert SERVE_FLAG in _cmdline(node.pid)
        assert int(await result(node.rpc_url, "eth_chainId"), 16) == 1337
    finally:
        await node.stop()
    assert not pid_alive(node.pid)


@pytest.mark.timeout(60)
def test_the_child_announces_its_url_and_exits_cleanly_on_sigterm() -> None:
    env = {**os.environ, "PYTHONPATH": str(_REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "app.devnet.tester_main", "--chain-id", "31337"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stderr is not None
        line = proc.stdout.readline()
        assert line.startswith(READY_PREFIX + "http://127.0.0.1:"), line
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(10) == 0
        assert proc.stderr.read() == ""  # a clean shutdown logs nothing
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()


def test_the_child_refuses_a_chain_id_that_is_not_positive(capsys: pytest.CaptureFixture[str]) -> None:
    assert serve(["--chain-id", "0"]) == 2
    assert "chain id must be a positive integer" in capsys.readouterr().err


async def test_the_in_process_variant_for_tests_serves_the_same_chain_without_a_child() -> None:
    node = await start_in_process()
    try:
        assert node.pid is None
        assert int(await result(node.rpc_url, "eth_chainId"), 16) == 31337
        balance = await result(node.rpc_url, "eth_getBalance", dev_addresses()[9], "latest")
        assert int(balance, 16) == DEV_BALANCE_WEI
    finally:
        await node.stop()
    assert not node.running
