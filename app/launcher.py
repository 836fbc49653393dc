"""`mor-launch`: chooses what to run (desktop app, headless router, devnet alone) from the command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from app import __version__


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="mor-launch",
        description="Morpheus desktop node: wallet, marketplace, chat and an embedded proxy-router.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser(
        "devnet",
        help="start the embedded development chain alone and print its RPC URL and contract addresses",
        add_help=False,
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command named on the command line and return the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] == "devnet":
        from app.devnet.cli import main as devnet_main

        return int(devnet_main(args[1:]))
    _parser().parse_args(args)
    print("mor-launch: the desktop app is not built yet; run `mor-launch devnet` for the embedded chain.")
    return 2


if __name__ == "__main__":
    sys.exit(main())
