"""Runs anvil as a child process on 127.0.0.1 that persists its state to a file and never outlives us."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from app.devnet.accounts import DEFAULT_CHAIN_ID, DEV_ACCOUNT_COUNT, DEV_MNEMONIC
from app.devnet.chain_node import ChainNode
from app.devnet.child import OutputReader, live_children, spawn_text_child, terminate
from app.devnet.rpc import wait_until_answering
from app.errors import DevnetError

log = logging.getLogger(__name__)

_LISTENING = re.compile(r"Listening on (\d+\.\d+\.\d+\.\d+):(\d+)")
_STARTUP_TIMEOUT = 30.0  # loading a large state file takes a few seconds; a healthy start is ~0.1 s
_STOP_TIMEOUT = 10.0  # anvil dumps its state on SIGTERM; give it time before SIGKILL
_STATE_INTERVAL_S = 5  # periodic dumps, so a crash of the whole machine loses at most a few seconds

def find_anvil() -> Path | None:
    """Locate anvil: ``ANVIL_PATH``, then ``PATH``, then next to a frozen executable, then the repo's npm install.

    ``ANVIL_PATH`` is returned as given even if it is wrong, so :func:`start_anvil` can say what is wrong with it.
    """
    override = os.environ.get("ANVIL_PATH")
    if override:
        return Path(override)
    on_path = shutil.which("anvil")
    if on_path:
        return Path(on_path)
    exe_name = "anvil.exe" if sys.platform == "win32" else "anvil"
    bundle_dirs = [Path(p) for p in (getattr(sys, "_MEIPASS", None),) if p]
    if getattr(sys, "frozen", False):
        bundle_dirs.append(Path(sys.executable).resolve().parent)
    for folder in bundle_dirs:
        candidate = folder / exe_name
        if candidate.is_file():
            return candidate
    repo_anvil = Path(__file__).resolve().parents[2] / "packaging" / "npm" / "node_modules" / ".bin" / "anvil"
    return repo_anvil if repo_anvil.exists() else None


def native_binary(path: Path) -> Path:
    """The real anvil executable behind ``path``.

    The npm package installs a Node wrapper (``bin.mjs``) that spawns the native binary; killing the wrapper
    would orphan the real anvil, so we run the platform binary it points at directly.
    """
    resolved = path.resolve()
    if resolved.suffix in {".mjs", ".js"} and resolved.parent.parent.name == "@foundry-rs":
        exe_name = "anvil.exe" if sys.platform == "win32" else "anvil"
        for candidate in sorted(resolved.parent.parent.glob(f"anvil-*/bin/{exe_name}")):
            if os.access(candidate, os.X_OK):
                return candidate
    return path


def _validate(path: Path) -> None:
    origin = "ANVIL_PATH" if os.environ.get("ANVIL_PATH") == str(path) else "anvil"
    if not path.exists():
        raise DevnetError(f"{origin} points to {path}, which does not exist. Fix or unset ANVIL_PATH.")
    if not path.is_file() or not os.access(path, os.X_OK):
        raise DevnetError(
            f"{origin} points to {path}, which is not an executable file. Fix or unset ANVIL_PATH "
            "(or install Foundry's anvil)."
        )


def _listening_address(line: str) -> tuple[str, int] | None:
    match = _LISTENING.search(line)
    return (match.group(1), int(match.group(2))) if match else None


def _worth_quoting(line: str) -> bool:
    # The banner lists the dev accounts and private keys: public test keys, but never quoted or logged anyway.
    return bool(line.strip()) and not line.startswith(("(", "0x"))


def _spawn(binary: Path, args: list[str]) -> subprocess.Popen[str]:
    try:
        return spawn_text_child([str(binary), *args])
    except OSError as e:
        raise DevnetError(f"Could not run anvil at {binary}: {e.strerror or e}. Fix or unset ANVIL_PATH.") from e


async def start_anvil(
    *,
    state_path: Path | None,
    chain_id: int = DEFAULT_CHAIN_ID,
    anvil_path: Path | None = None,
    block_time: float | None = None,
) -> ChainNode:
    """Start anvil on 127.0.0.1 (a free port) with the dev accounts funded; with ``state_path`` it persists.

    Raises DevnetError naming the cause and the fix when anvil is missing, broken or cannot load its state.
    """
    path = anvil_path or find_anvil()
    if path is None:
        raise DevnetError(
            "anvil was not found (ANVIL_PATH, PATH, the app bundle, packaging/npm). Install Foundry's anvil "
            "or set ANVIL_PATH; the app falls back to the slower eth-tester chain otherwise."
        )
    _validate(path)
    binary = native_binary(path)
    args = ["--host", "127.0.0.1", "--port", "0", "--chain-id", str(chain_id)]
    args += ["--mnemonic", DEV_MNEMONIC, "--accounts", str(DEV_ACCOUNT_COUNT), "--balance", "10000"]
    if state_path is not None:
        state_path.parent.mkdir(parents=True, exist_ok=True)
        args += ["--state", str(state_path), "--state-interval", str(_STATE_INTERVAL_S)]
    if block_time is not None:
        args += ["--block-time", f"{block_time:g}"]

    loop = asyncio.get_running_loop()
    proc = _spawn(binary, args)
    live_children.add(proc, _STOP_TIMEOUT)
    reader = OutputReader(proc, loop, "anvil", _listening_address, keep=_worth_quoting,
                          after_ready=lambda line: log.debug("anvil: %s", line))
    reader.start()
    try:
        host, port = await asyncio.wait_for(reader.ready, _STARTUP_TIMEOUT)
        url = f"http://{host}:{port}"
        answered_id = await wait_until_answering(url, within=_STARTUP_TIMEOUT)
    except (EOFError, TimeoutError, DevnetError) as e:
        await _terminate(proc)
        raise DevnetError(_startup_failure(binary, state_path, reader, e)) from None
    except BaseException:
        await _terminate(proc)
        raise
    if answered_id != chain_id:
        await _terminate(proc)
        raise DevnetError(f"anvil reports chain id {answered_id}, expected {chain_id}. Reset the devnet.")
    log.info("anvil %s listening on %s (pid %d, state %s)", binary, url, proc.pid, state_path or "in memory")

    async def stop() -> None:
        await _terminate(proc)

    return ChainNode(url, chain_id, "anvil", state_path is not None, pid=proc.pid, _stopper=stop)


def _startup_failure(
    binary: Path, state_path: Path | None, reader: OutputReader[tuple[str, int]], cause: BaseException
) -> str:
    last = reader.tail_text()
    if isinstance(cause, TimeoutError):
        return f"anvil ({binary}) did not start within {_STARTUP_TIMEOUT:.0f} s. Last output: {last or 'none'}"
    if state_path is not None and state_path.exists() and "state" in last.lower():
        return (
            f"anvil could not load the saved devnet state {state_path} ({last}). "
            "Reset the devnet (`mor-launch devnet --reset`) to start a fresh chain."
        )
    return f"anvil ({binary}) exited during startup: {last or 'no output'}. Check the anvil installation."


async def _terminate(proc: subprocess.Popen[str]) -> None:
    await terminate(proc, "anvil", _STOP_TIMEOUT)  # SIGTERM: anvil dumps its state, so it gets a longer grace
