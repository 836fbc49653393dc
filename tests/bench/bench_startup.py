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
``--idle`` s with nothing to do, counted from the usable window on the desktop (anvil, a separate process, is listed
apart). The executable size is ``dist/`` when a frozen build exists.
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

from app.wallet.keystore import ScryptParams
from app.wallet.manager import WalletManager
from app.wallet.secret import WalletSecret
from tests.bench.bench_env import ROOT, machine, rss_mb, write_result

USABLE = b'{"event": "usable"'


def _children_rss(pid: int) -> float:
    """RSS (MB) of the direct children of ``pid`` (the anvil devnet)."""
    total = 0.0
    with contextlib.suppress(OSError):
        for child in Path(f"/proc/{pid}/task/{pid}/children").read_text().split():
            with contextlib.suppress(OSError):
                total += rss_mb(int(child))
    return total


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
        result["devnet_rss_mb"] = _children_rss(proc.pid)
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
    print(f"{'mode':<28} {'first launch':>12} {'next launch':>11} {'idle RSS':>9} {'devnet RSS':>10}")
    for m in result["modes"]:
        print(f"{m['mode']:<28} {m['first_ready_s']:>11.2f}s {m['next_ready_s']:>10.2f}s "
              f"{m['idle_rss_mb']:>6.0f} MB {m['devnet_rss_mb']:>7.0f} MB")
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
