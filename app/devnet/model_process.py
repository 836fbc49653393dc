"""How the local model server process is started: ``python -m llama_cpp.server``, or the frozen app run again."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Sequence

SERVE_FLAG = "--serve-local-model"
"""Hidden first argument of a frozen ``mor-launch``: run llama-cpp-python's server instead of the app."""

NOT_BUNDLED_MESSAGE = (
    "this mor-launch build has no local model (llama-cpp-python is not bundled); use a build made with "
    "MOR_BUILD_WITH_MODEL=1, or point models-config.json at an OpenAI-compatible server"
)


def is_frozen() -> bool:
    """True inside a PyInstaller build, where ``sys.executable`` is mor-launch itself, not a Python."""
    return bool(getattr(sys, "frozen", False))


def server_command() -> list[str]:
    """The command that starts llama-cpp-python's OpenAI server; the server's own flags follow it.

    A frozen app has no ``python -m``: it re-runs its own executable with :data:`SERVE_FLAG`, and the
    launcher hands the rest of the command line to :func:`serve`.
    """
    if is_frozen():
        return [sys.executable, SERVE_FLAG]
    return [sys.executable, "-m", "llama_cpp.server"]


def serve(argv: Sequence[str]) -> int:
    """Run llama_cpp.server in this process with ``argv`` as its flags; returns the exit code.

    The server is the whole process (uvicorn owns the loop and the signals), so this runs before and
    instead of anything else the app would do.
    """
    try:
        server_main: Callable[[], object] = importlib.import_module("llama_cpp.server.__main__").main
    except ImportError:
        print(f"mor-launch: {NOT_BUNDLED_MESSAGE}", file=sys.stderr)
        return 1
    sys.argv = ["mor-launch " + SERVE_FLAG, *argv]
    try:
        server_main()
    except SystemExit as e:  # argparse and the server exit this way; report the code instead of leaving
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    return 0
