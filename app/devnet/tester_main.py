"""The eth-tester chain's own process: serves TesterRpcServer on 127.0.0.1 until SIGTERM and announces its URL."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import Sequence

from app.devnet.tester_process import READY_PREFIX, SERVE_FLAG
from app.devnet.tester_server import TesterRpcServer
from app.errors import DevnetError


def _chain_id(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"chain id must be a positive integer, not {text}")
    return value


async def _serve(chain_id: int) -> int:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        # Windows has no loop signal handlers; there the parent's terminate() ends us without a clean shutdown,
        # which loses nothing: the chain is not persistent.
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(signum, stopping.set)
    server = TesterRpcServer(chain_id)
    try:
        url = await server.start()
        # The one line the parent waits for: the port was chosen by the kernel here, so no other process can
        # take it between choosing and binding.
        print(f"{READY_PREFIX}{url}", flush=True)
        await stopping.wait()
    finally:
        await server.stop()
    return 0


def serve(argv: Sequence[str]) -> int:
    """Run the eth-tester chain server in this process with ``argv`` (``--chain-id N``); returns the exit code.

    Warnings and errors go to stderr, which the parent quotes when start-up fails and logs afterwards.
    """
    parser = argparse.ArgumentParser(prog=f"mor-launch {SERVE_FLAG}", description="serve the eth-tester devnet chain")
    parser.add_argument("--chain-id", type=_chain_id, required=True)
    try:
        args = parser.parse_args(list(argv))
    except SystemExit as e:  # argparse has printed the problem; report its code instead of leaving
        return e.code if isinstance(e.code, int) else 2
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s: %(message)s")
    try:
        return asyncio.run(_serve(args.chain_id))
    except DevnetError as e:
        print(e.user_message, file=sys.stderr, flush=True)
        return 1
    except OSError as e:  # binding 127.0.0.1 failed
        print(f"could not serve the eth-tester chain on 127.0.0.1: {e}", file=sys.stderr, flush=True)
        return 1


if __name__ == "__main__":
    sys.exit(serve(sys.argv[1:]))
