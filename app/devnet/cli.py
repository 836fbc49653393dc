"""`mor-launch devnet`: run the embedded devnet in a terminal, or fund an address on a running one."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING

from app.devnet.deployment import load_deployment, load_rpc_info
from app.devnet.faucet import DEFAULT_ETH_WEI, DEFAULT_MOR_WEI
from app.devnet.progress import StartupStep
from app.errors import AppError, DevnetError

if TYPE_CHECKING:
    from app.devnet.service import DevnetService

log = logging.getLogger(__name__)
_WEI = Decimal(10**18)


class _UsageError(Exception):
    """argparse wants to exit: we turn that into one line and exit code 1 (argparse would use 2)."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise _UsageError(f"{self.prog}: {message}")


def _amount(text: str) -> int:
    """A decimal token amount (``10``, ``0.5``) in wei."""
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value.is_finite() or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be zero or positive")
    return int(value * _WEI)


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="mor-launch devnet", description="Run the embedded development chain.")
    parser.add_argument("--data-dir", type=Path, help="data folder (default: MOR_DATA_DIR or the user data folder)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress details")
    sub = parser.add_subparsers(dest="command")
    run = sub.add_parser("run", help="start the devnet and run until Ctrl-C (the default)")
    for p in (parser, run):
        p.add_argument("--engine", choices=["auto", "anvil", "eth-tester"], default="auto")
        p.add_argument("--reset", action="store_true", help="delete the saved chain and deploy afresh")
    fund = sub.add_parser("fund", help="send devnet ETH and MOR to an address (needs a running devnet)")
    fund.add_argument("address")
    fund.add_argument("--eth", type=_amount, default=DEFAULT_ETH_WEI, help="ETH to send (default 10)")
    fund.add_argument("--mor", type=_amount, default=DEFAULT_MOR_WEI, help="MOR to send (default 1000)")
    for p in (run, fund):
        p.add_argument("--data-dir", type=Path, default=argparse.SUPPRESS)
    return parser


def main(argv: list[str]) -> int:
    """Entry point of ``mor-launch devnet``; returns the process exit code."""
    try:
        args = _parser().parse_args(argv)
    except _UsageError as e:
        print(e, file=sys.stderr)
        return 1
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(name)s: %(message)s"
    )
    try:
        from app.paths import data_dir

        folder: Path = args.data_dir or data_dir()
        if args.command == "fund":
            return asyncio.run(_fund(folder, args.address, args.eth, args.mor))
        return asyncio.run(_run(folder, args.engine, args.reset))
    except AppError as e:
        print(f"mor-launch devnet: {e.user_message}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as e:  # never a traceback for the user; the log has the details with -v
        log.debug("devnet failed", exc_info=True)
        print(f"mor-launch devnet: unexpected error: {type(e).__name__}: {e}", file=sys.stderr)
        return 1


def _refuse_second_instance(folder: Path) -> None:
    """Two devnets on one data folder would fight over the same state file."""
    info = load_rpc_info(folder)
    pid = info.get("pid") if info else None
    if isinstance(pid, int) and pid != os.getpid():
        try:
            os.kill(pid, 0)
        except (ProcessLookupError, PermissionError, OSError):
            return  # a stale file from a crashed run
        raise DevnetError(
            f"A devnet is already running for {folder} (pid {pid}, {info.get('rpc_url') if info else ''}). "
            "Use it, stop it, or pass another --data-dir."
        )


def _print_step(step: StartupStep) -> None:
    if step.state == "running":
        print(f"  … {step.name}: {step.message}", flush=True)
    elif step.state == "ok":
        print(f"  ✓ {step.name} ({step.seconds:.1f} s) {step.message}", flush=True)
    else:
        print(f"  ✗ {step.name} ({step.seconds:.1f} s): {step.message}", flush=True)


async def _run(folder: Path, engine: str, reset: bool) -> int:
    from app.devnet.service import DevnetService, wipe_devnet

    _refuse_second_instance(folder)
    if reset:
        wipe_devnet(folder)
    service = DevnetService(folder, engine=engine, progress=_print_step)  # type: ignore[arg-type]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # Windows: Ctrl-C arrives as KeyboardInterrupt instead
            loop.add_signal_handler(sig, stop.set)
    print("Starting the Morpheus devnet…", flush=True)
    try:
        await service.start()
        _print_summary(service)
        await stop.wait()
        print("Stopping the devnet…", flush=True)
    finally:
        await service.stop()
    print("Devnet stopped.", flush=True)
    return 0


def _print_summary(service: DevnetService) -> None:
    from app.devnet.node import anvil_state_path

    d = service.addresses
    if service.persistent:
        kept = f"state kept in {anvil_state_path(service.data_dir)}"
    else:
        kept = "in memory: the chain is NOT kept between launches"
    lines = [
        "",
        "Morpheus devnet is running",
        f"  RPC URL          {service.rpc_url}",
        f"  Chain ID         {service.chain_id}",
        f"  Engine           {service.engine} ({kept})",
        f"  Diamond          {d.diamond}",
        f"  MOR token        {d.mor}",
        f"  Multicall3       {d.multicall3}",
        f"  Funding account  {d.funding_account}",
        f"  Faucet           mor-launch devnet --data-dir {service.data_dir} fund 0xADDRESS [--eth 10] [--mor 1000]",
        "Press Ctrl-C to stop.",
    ]
    print("\n".join(lines), flush=True)


async def _fund(folder: Path, address: str, eth_wei: int, mor_wei: int) -> int:
    from app.chain.client import ChainClient
    from app.devnet.faucet import Faucet
    from app.devnet.setup import FAUCET_INDEX, dev_signer

    info = load_rpc_info(folder)
    deployment = load_deployment(folder)
    if info is None or deployment is None:
        raise DevnetError(f"No devnet is running for the data folder {folder}: start one with `mor-launch devnet`.")
    client = ChainClient([str(info["rpc_url"])], expected_chain_id=deployment.chain_id, retries=1)
    try:
        try:
            await client.connect()
        except AppError as e:
            raise DevnetError(
                f"The devnet at {info['rpc_url']} does not answer ({e.user_message}). Is `mor-launch devnet` "
                "still running?"
            ) from e
        faucet = Faucet(client, dev_signer(FAUCET_INDEX), deployment.mor)
        await faucet.fund(address, eth_wei, mor_wei)
        print(f"Sent {Decimal(eth_wei) / _WEI:f} ETH and {Decimal(mor_wei) / _WEI:f} MOR to {address}.", flush=True)
    finally:
        await client.close()
    return 0
