"""Benchmark: cold start to a usable node and idle memory, headless and (when it exists) the desktop window.

Run: ``python3 -m tests.bench.bench_startup`` (writes results/bench_startup.json).

Headless (``python3 -m app.bootstrap.headless``): seconds from process spawn to its "HTTP API" line (API listening,
wallet and chain up), checked by one GET /healthcheck. "first launch" uses a fresh data folder, so it includes
starting anvil and deploying the protocol onto the embedded devnet; "next launch" reuses the folder (devnet state
restored). Desktop (``app/gui/app.py``, offscreen Qt, via ``tests/bench/gui_first_window.py``), two figures per
launch: spawn to the first window (the start-up screen, shown and processed by the event loop: ``*_window_s``, also
kept as ``*_ready_s``) and spawn to a usable window (``*_usable_s``): the controller has routed to the view a person
can act in — the setup wizard on a fresh folder, the unlock screen when a wallet is on disk, the main window with a
wallet from the environment — and the loop has processed its show (gui_first_window.py says exactly when). A fresh
folder keeps showing the wizard on the next launches (no wallet was made); then a throwaway wallet is written into the
folder and ``--repeats`` more launches measure the unlock screen (``wallet_*``). Idle RSS is our process after
``--idle`` s with nothing to do, counted from the usable window on the desktop. The app's child processes are listed
apart, each by role with its RSS and PSS (``children``, summed per role in ``children_rss_mb``): anvil (the devnet
chain, ~20–35 MB) and the demo's local model server (``python -m llama_cpp.server``: its weights, KV cache and
Python, ~300–350 MB; ``model_file_mb`` is the size of the GGUF it serves); ``devnet_rss_mb`` is all children
together. The executable size is ``dist/`` when a frozen build exists.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
import keyring.backends.fail

from app.devnet.model_process import SERVE_FLAG
from app.wallet.keystore import ScryptParams
from app.wallet.manager import WalletManager
from app.wallet.secret import WalletSecret
from tests.bench.bench_env import ROOT, machine, rss_mb, write_result

USABLE = b'{"event": "usable"'


ROLES = ("anvil", "local model", "other")


def _status_kb(pid: int, key: str, name: str = "status") -> int:
    """One ``key:`` figure (kB) from /proc/<pid>/<name>; 0 when absent (a kernel without smaps_rollup)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/{name}").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
    return 0


def _role(argv: list[str]) -> str:
    """Which of our children this is, from its command line: the devnet chain, the demo's model server, or other."""
    program = Path(argv[0]).name if argv else ""
    if program in {"anvil", "anvil.exe"}:
        return "anvil"
    if "llama_cpp.server" in argv or SERVE_FLAG in argv:
        return "local model"
    return "other"


def _short_command(argv: list[str]) -> str:
    """The program and, for a Python child, its module: enough to name it, without flags (anvil's carry a mnemonic)."""
    if len(argv) >= 3 and argv[1] == "-m":
        return f"{Path(argv[0]).name} -m {argv[2]}"
    return Path(argv[0]).name if argv else "?"


def _model_file_mb(argv: list[str]) -> float | None:
    """Size of the GGUF a local model server was started with (its ``--model`` flag), in MB."""
    with contextlib.suppress(ValueError, IndexError, OSError):
        return Path(argv[argv.index("--model") + 1]).stat().st_size / 1e6
    return None


def _children(pid: int) -> list[dict[str, Any]]:
    """Every descendant of ``pid`` (anvil, the local model server, ...): role, command, RSS and PSS in MB.

    PSS shares each file page among the processes mapping it, so it is what the child costs on top of the rest.
    """
    found: list[dict[str, Any]] = []
    with contextlib.suppress(OSError):
        for child in map(int, Path(f"/proc/{pid}/task/{pid}/children").read_text().split()):
            try:
                argv = Path(f"/proc/{child}/cmdline").read_bytes().decode(errors="replace").split("\0")[:-1]
            except OSError:
                continue  # exited between the listing and the read
            entry: dict[str, Any] = {"role": _role(argv), "pid": child, "command": _short_command(argv),
                                     "rss_mb": _status_kb(child, "VmRSS") / 1024,
                                     "pss_mb": _status_kb(child, "Pss", "smaps_rollup") / 1024,
                                     "anon_mb": _status_kb(child, "RssAnon") / 1024,
                                     "file_mb": _status_kb(child, "RssFile") / 1024}
            if entry["role"] == "local model":
                entry["model_file_mb"] = _model_file_mb(argv)
            found += [entry, *_children(child)]
    return found


def _rss_by_role(children: list[dict[str, Any]]) -> dict[str, float]:
    return {role: sum(c["rss_mb"] for c in children if c["role"] == role) for role in ROLES}


async def _launch(args: list[str], folder: Path, ready_prefix: bytes, idle: float,
                  extra_env: dict[str, str] | None = None, usable_prefix: bytes | None = None) -> dict[str, Any]:
    """Spawn, time the ``ready_prefix`` line (and then the ``usable_prefix`` line), read RSS after ``idle`` s."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MOR_DATA_DIR": str(folder), "WEB_ADDRESS": "127.0.0.1:0",
           "PROXY_ADDRESS": "127.0.0.1:0", "LOG_LEVEL_APP": "warn", **(extra_env or {})}
    start = time.monotonic()
    proc = await asyncio.create_subprocess_exec(sys.executable, *args, cwd=folder, env=env,
                                                stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
                                                start_new_session=True)
    assert proc.stdout is not None
    try:
        async with asyncio.timeout(120):
            while not (line := await proc.stdout.readline()).startswith(ready_prefix):
                if not line:
                    raise RuntimeError(f"{args} exited before it was ready (code {await proc.wait()})")
        ready = time.monotonic() - start
        result: dict[str, Any] = {"ready_s": ready, "rss_ready_mb": rss_mb(proc.pid)}
        if usable_prefix is not None:
            async with asyncio.timeout(180):  # a first launch deploys the devnet and seeds the demo history
                while not (line := await proc.stdout.readline()).startswith(usable_prefix):
                    if not line:
                        raise RuntimeError(f"{args} exited before it was usable (code {await proc.wait()})")
            usable = json.loads(line)
            result.update(usable_s=time.monotonic() - start, usable_view=usable["view"],
                          interactive=usable["interactive"], rss_usable_mb=rss_mb(proc.pid),
                          steps_s=usable.get("steps_s", {}),
                          phases_s={name: at - start for name, at in usable.get("marks", {}).items()})
        if line.startswith(b"HTTP API"):
            url = line.split()[2].decode()
            async with aiohttp.ClientSession() as http, http.get(url + "/healthcheck") as response:
                result["healthcheck"] = response.status
        await asyncio.sleep(idle)
        result["idle_rss_mb"] = rss_mb(proc.pid)
        children = _children(proc.pid)
        result.update(children=children, children_rss_mb=_rss_by_role(children),
                      devnet_rss_mb=sum(c["rss_mb"] for c in children))
        return result
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        try:
            async with asyncio.timeout(15):
                await proc.wait()
        except TimeoutError:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            await proc.wait()


async def _write_wallet(folder: Path) -> None:
    """A throwaway wallet in ``folder`` (encrypted file, no OS keychain), so the next launch shows the unlock screen."""
    manager = WalletManager(folder, keyring_backend=keyring.backends.fail.Keyring(),  # type: ignore[no-untyped-call]
                            scrypt=ScryptParams(n=2**4), environ={})
    await manager.setup("bench password 1", WalletSecret.from_private_key("0x" + os.urandom(32).hex()))
    manager.lock("benchmark setup done")


async def _mode(name: str, args: list[str], ready: bytes, repeats: int, idle: float,
                env: dict[str, str] | None = None, usable: bytes | None = None) -> dict[str, Any]:
    """First launch (fresh folder) and ``repeats`` next launches (same folder): medians. With ``usable``, also
    the usable-window figures, then ``repeats`` launches with a wallet on disk (the unlock screen)."""
    med = statistics.median
    with tempfile.TemporaryDirectory() as tmp:
        first = await _launch(args, Path(tmp), ready, idle, env, usable)
        nexts = [await _launch(args, Path(tmp), ready, idle, env, usable) for _ in range(repeats)]
        result = {"mode": name, "first_ready_s": first["ready_s"], "next_ready_s": med(r["ready_s"] for r in nexts),
                  "idle_rss_mb": med(r["idle_rss_mb"] for r in nexts),
                  "devnet_rss_mb": med(r["devnet_rss_mb"] for r in nexts),
                  "children_rss_mb": {role: med(r["children_rss_mb"][role] for r in nexts) for role in ROLES},
                  "model_file_mb": next((c["model_file_mb"] for r in [first, *nexts] for c in r["children"]
                                         if c.get("model_file_mb") is not None), None),
                  "runs": [first, *nexts]}
        if usable is None:
            return result
        await _write_wallet(Path(tmp))
        wallet = [await _launch(args, Path(tmp), ready, idle, env, usable) for _ in range(repeats)]
    return {**result, "first_window_s": first["ready_s"], "next_window_s": result["next_ready_s"],
            "first_usable_s": first["usable_s"], "next_usable_s": med(r["usable_s"] for r in nexts),
            "usable_view": first["usable_view"], "next_usable_view": nexts[-1]["usable_view"] if nexts else None,
            "wallet_window_s": med(r["ready_s"] for r in wallet), "wallet_usable_s": med(r["usable_s"] for r in wallet),
            "wallet_usable_view": wallet[-1]["usable_view"] if wallet else None,
            "all_interactive": all(r["interactive"] for r in [first, *nexts, *wallet]), "wallet_runs": wallet,
            "first_steps_s": first["steps_s"], "wallet_steps_s": _median_run(wallet).get("steps_s", {}),
            "first_phases_s": first["phases_s"], "wallet_phases_s": _median_run(wallet).get("phases_s", {})}


def _median_run(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the median time to a usable window (its step breakdown explains the median figure)."""
    ordered = sorted(runs, key=lambda r: r["usable_s"])
    return ordered[(len(ordered) - 1) // 2] if ordered else {}


def _dist_size() -> dict[str, Any] | None:
    dist = ROOT / "dist"
    if not dist.is_dir():
        return None
    files = [p for p in dist.rglob("*") if p.is_file()]
    exes = [p for p in files if os.access(p, os.X_OK) and p.name.startswith("mor-launch")]
    return {"folder_mb": sum(p.stat().st_size for p in files) / 1e6, "files": len(files),
            "executable_mb": max((p.stat().st_size for p in exes), default=0) / 1e6}


async def measure(repeats: int, idle: float) -> dict[str, Any]:
    modes = [await _mode("headless", ["-m", "app.bootstrap.headless"], b"HTTP API", repeats, idle)]
    if (ROOT / "app" / "gui" / "app.py").exists():
        gui_env = {"QT_QPA_PLATFORM": "offscreen", "PYTHON_KEYRING_BACKEND": "keyring.backends.null.Keyring"}
        modes.append(await _mode("desktop window (offscreen)",
                                 ["-m", "tests.bench.gui_first_window", "--idle", str(idle)],
                                 b'{"event": "window"', repeats, idle, gui_env, USABLE))
    return {"modes": modes, "dist": _dist_size()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3, help="next launches per mode (default 3)")
    parser.add_argument("--idle", type=float, default=5.0, help="seconds idle before RSS is read (default 5)")
    args = parser.parse_args()
    result = asyncio.run(measure(args.repeats, args.idle))
    result["machine"] = machine()
    print(f"{'mode':<28} {'first launch':>12} {'next launch':>11} {'idle RSS':>9} {'anvil':>7} {'local model':>11} "
          f"{'other':>7}")
    for m in result["modes"]:
        kids = m["children_rss_mb"]
        print(f"{m['mode']:<28} {m['first_ready_s']:>11.2f}s {m['next_ready_s']:>10.2f}s "
              f"{m['idle_rss_mb']:>6.0f} MB {kids['anvil']:>4.0f} MB {kids['local model']:>8.0f} MB "
              f"{kids['other']:>4.0f} MB")
    for m in result["modes"]:
        last = m["runs"][-1]["children"]
        print(f"{m['mode']} children, last launch (model file {m['model_file_mb'] or 0:.0f} MB): " + "; ".join(
            f"{c['role']} ({c['command']}) RSS {c['rss_mb']:.0f} MB, PSS {c['pss_mb']:.0f} MB" for c in last))
    for m in result["modes"]:
        if "first_usable_s" in m:
            print(f"{m['mode']}: usable window ({m['usable_view']}) first launch {m['first_usable_s']:.2f}s, next "
                  f"{m['next_usable_s']:.2f}s; with a wallet on disk ({m['wallet_usable_view']}) first window "
                  f"{m['wallet_window_s']:.2f}s, usable {m['wallet_usable_s']:.2f}s; "
                  f"interactive: {m['all_interactive']}")
            for label, key in (("first launch", "first"), ("with a wallet (median run)", "wallet")):
                slow = sorted(m[f"{key}_steps_s"].items(), key=lambda kv: -kv[1])[:6]
                phases = ", ".join(f"{k} began at {v:.1f}" for k, v in m[f"{key}_phases_s"].items())
                print(f"  {label}: {phases}; steps (s): " + ", ".join(f"{k} {v:.1f}" for k, v in slow))
    if result["dist"]:
        d = result["dist"]
        print(f"dist/: {d['folder_mb']:.0f} MB in {d['files']} files, executable {d['executable_mb']:.1f} MB")
    print(json.dumps({"written": str(write_result("bench_startup", result))}))


if __name__ == "__main__":
    main()
