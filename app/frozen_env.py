"""The user's own environment for programs a frozen mor-launch starts that are not part of its bundle."""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping

# PyInstaller points these into the bundle (bootloader and its PySide6 runtime hook; ours sets the MOR_ ones).
# A browser or file manager started with them would load our copies of GTK, glib and Qt plugins, and another
# PyInstaller app would take the _PYI_ variables for its own and refuse to start.
_BUNDLE_PATH_VARS = ("QT_PLUGIN_PATH", "QML2_IMPORT_PATH", "MOR_RESOURCES_DIR", "MOR_LOCAL_MODEL_GGUF")


def _inside(path: str, bundle: str) -> bool:
    first = path.split(os.pathsep, 1)[0]
    return first == bundle or first.startswith(bundle.rstrip(os.sep) + os.sep)


def external_environment(
    environ: Mapping[str, str] | None = None, bundle: str | None = None
) -> dict[str, str]:
    """``environ`` (default ``os.environ``) as the user had it before the frozen app changed it.

    Use it as ``env=`` when starting a program that is not this executable (``xdg-open`` for links, a
    terminal, an editor). Children that *are* this executable (``--serve-local-model``) and anvil keep
    the inherited environment. Outside a frozen app the result is an unchanged copy.
    """
    env = dict(os.environ if environ is None else environ)
    bundle = bundle if bundle is not None else getattr(sys, "_MEIPASS", None)
    if not bundle:
        return env
    original = env.pop("LD_LIBRARY_PATH_ORIG", None)  # the bootloader parks the user's value here
    if original is not None:
        env["LD_LIBRARY_PATH"] = original
    elif _inside(env.get("LD_LIBRARY_PATH", ""), bundle):
        del env["LD_LIBRARY_PATH"]
    for name in _BUNDLE_PATH_VARS:
        if _inside(env.get(name, ""), bundle):
            del env[name]
    for name in [n for n in env if n.startswith("_PYI_")]:
        del env[name]
    return env
