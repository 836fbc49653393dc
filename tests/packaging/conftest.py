"""Packaging tests: the frozen-build marker and where the built executable is found."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ONEDIR_EXE = ROOT / "dist" / "mor-launch" / "mor-launch"
ONEFILE_EXE = ROOT / "dist" / "onefile" / "mor-launch"


def pytest_configure(config: pytest.Config) -> None:
    # Registered here so --strict-markers accepts it; the same line belongs in pyproject's markers list.
    config.addinivalue_line("markers", "frozen: needs the PyInstaller build (packaging/build.sh) in dist/")


def frozen_executable() -> Path | None:
    """``MOR_FROZEN_EXE``, else the one-folder build, else the one-file build; None when nothing is built."""
    override = os.environ.get("MOR_FROZEN_EXE")
    if override:
        return Path(override)
    for candidate in (ONEDIR_EXE, ONEFILE_EXE):
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


NOT_BUILT = (
    f"no frozen build: neither {ONEDIR_EXE.relative_to(ROOT)} nor {ONEFILE_EXE.relative_to(ROOT)} exists "
    "(run packaging/build.sh, ~2 min) and MOR_FROZEN_EXE is not set"
)
