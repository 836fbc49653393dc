"""Runs the eth-tester chain in a child process, so py-evm never holds the app's GIL (no GUI stalls)."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
from pathlib import Path

from app.devnet.accounts import DEFAULT_CHAIN_ID
from app.devnet.chain_node import ChainNode
from app.devnet.child import OutputReader, live_children, spawn_text_child, terminate
from app.devnet.model_process import is_frozen
from app.devnet.rpc import wait_until_answering
from app.errors import DevnetError

log = logging.getLogger(__name__)

SERVE_FLAG = "--serve-eth-tester"
"""Hidden first argument of a frozen ``mor-launch``: serve the eth-tester chain instead of running the app."""

CHILD_MODULE = "app.devnet.tester_main"
READY_PREFIX = "eth-tester listening on "
"""The child prints this, then its URL, on stdout once it answers JSON-RPC."""

STARTUP_TIMEOUT = 60.0  # a healthy start (py-evm import + genesis) is ~1 s; a loaded CI machine needs far more
_NAME = "eth-tester"

def child_command(chain_id: int) -> list[str]:
    """The command that serves the chain: ``python -m app.devnet.tester_main``, or the frozen app re-run.

    A frozen app has no ``python -m``: it re-runs its own executable with :data:`SERVE_FLAG`, and the
    launcher hands the rest of the command line to the child's entry point.
    """
    if is_frozen():
        return [sys.executable, SERVE_FLAG, "--chain-id", str(chain_id)]
    return [sys.executable, "-m", CHILD_MODULE, "--chain-id", str(chain_id)]


def _child_environment() -> dict[str, str]:
    """Our environment, plus (from source) the folder holding ``app`` so ``-m`` finds it from any directory."""
    env = dict(os.environ)
    if not is_frozen():
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
    env["PYTHONUNBUFFERED"] = "1"  # its warnings reach our log as they happen
    return env


def _spawn(command: list[str]) -> subprocess.Popen[str]:
    try:
        proc = spawn_text_child(command, _child_environment())
    except OSError as e:
        raise DevnetError(
            f"Could not start the eth-tester chain process ({command[0]}): {e.strerror or e}. Reinstall the app, "
            "or install Foundry's anvil (set ANVIL_PATH) so the devnet uses it instead."
        ) from e
    live_children.add(proc)
    return proc


async def start_eth_tester(*, chain_id: int = DEFAULT_CHAIN_ID, startup_timeout: float = STARTUP_TIMEOUT) -> ChainNode:
    """Start an eth-tester chain in a child process on 127.0.0.1 (a port the child binds); state in memory only.

    Raises DevnetError naming the cause and the fix (with the child's last output) when it cannot start.
    """
    loop = asyncio.get_running_loop()
    proc = _spawn(child_command(chain_id))
    reader = OutputReader(proc, loop, _NAME, _ready_url, after_ready=_log_child_line)
    reader.start()
    try:
        url = await asyncio.wait_for(reader.ready, startup_timeout)
        answered_id = await wait_until_answering(url, within=startup_timeout)
    except (EOFError, TimeoutError, DevnetError) as e:
        await terminate(proc, _NAME)
        raise DevnetError(_startup_failure(proc, reader, e, startup_timeout)) from None
    except BaseException:
        await terminate(proc, _NAME)
        raise
    if answered_id != chain_id:
        await terminate(proc, _NAME)
        raise DevnetError(
            f"The eth-tester chain reports chain id {answered_id}, expected {chain_id}. Reinstall the app."
        )
    log.info("eth-tester chain %d served on %s (pid %d, not persistent)", chain_id, url, proc.pid)

    async def stop() -> None:
        await terminate(proc, _NAME)

    return ChainNode(url, chain_id, "eth-tester", persistent=False, pid=proc.pid, _stopper=stop)


def _ready_url(line: str) -> str | None:
    return line[len(READY_PREFIX) :].strip() if line.startswith(READY_PREFIX) else None


def _log_child_line(line: str) -> None:
    if line.strip():
        log.warning("eth-tester: %s", line)  # the child prints only warnings and errors


def _startup_failure(
    proc: subprocess.Popen[str], reader: OutputReader[str], cause: BaseException, timeout: float
) -> str:
    last = reader.tail_text() or "no output"
    fix = "Reinstall the app, or install Foundry's anvil (set ANVIL_PATH) so the devnet uses it instead."
    if isinstance(cause, TimeoutError):
        return (
            f"The eth-tester chain did not start within {timeout:.0f} s (last output: {last}). The machine may be "
            f"overloaded: close other programs and retry. {fix}"
        )
    if isinstance(cause, DevnetError):
        return f"The eth-tester chain started but does not answer JSON-RPC ({cause.user_message}). {fix}"
    return f"The eth-tester chain process exited during start-up (exit code {proc.returncode}): {last}. {fix}"
