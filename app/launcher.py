"""`mor-launch`: chooses what to run (desktop app, headless router, devnet alone) from the command line."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from app import __version__

USAGE = f"""\
mor-launch {__version__} — Morpheus desktop node: wallet, marketplace, chat and an embedded proxy-router.

usage:
  mor-launch                 start the desktop app (the embedded devnet when no chain is configured)
  mor-launch --headless      run the proxy-router without a window, configured like the Go router
                             (flags --kebab-case, env vars ETH_NODE_ADDRESS, WALLET_PRIVATE_KEY, ..., ./.env)
  mor-launch devnet          start the embedded development chain alone and print its addresses
  mor-launch devnet fund 0xADDR [--eth N] [--mor N]
                             fund an address on the running devnet
  mor-launch --version | --help
"""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command named on the command line and return the process exit code."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args and args[0] in {"-h", "--help", "help"}:
        sys.stdout.write(USAGE)
        return 0
    if args and args[0] == "--version":
        sys.stdout.write(f"mor-launch {__version__}\n")
        return 0
    if args and args[0] == "--serve-local-model":  # hidden: a frozen build re-runs itself as the model server
        from app.devnet.model_process import serve

        return serve(args[1:])
    if args and args[0] == "--serve-eth-tester":  # hidden: a frozen build re-runs itself as the eth-tester chain
        from app.devnet.tester_main import serve as serve_chain

        return serve_chain(args[1:])
    if args and args[0] == "devnet":
        from app.devnet.cli import main as devnet_main

        return int(devnet_main(args[1:]))
    if "--headless" in args:
        from app.bootstrap.headless import main as headless_main

        return int(headless_main([a for a in args if a != "--headless"]))
    from app.gui.app import main as gui_main

    return int(gui_main(args))


if __name__ == "__main__":
    sys.exit(main())
