"""mor-launch dispatches to the right mode and explains itself."""

from __future__ import annotations

import subprocess
import sys

import pytest

from app import __version__
from app.launcher import main


def test_help_lists_every_mode(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--help"]) == 0
    out = capsys.readouterr().out
    for mode in ("--headless", "devnet", "devnet fund"):
        assert mode in out


def test_version_is_printed(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--version"]) == 0
    assert capsys.readouterr().out.strip() == f"mor-launch {__version__}"


def test_headless_with_a_bad_setting_fails_with_one_clear_line() -> None:
    result = subprocess.run(
        [sys.executable, "mor-launch.py", "--headless", "--web-address", "not-a-host-port"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode != 0
    assert "WEB_ADDRESS" in result.stderr or "web-address" in result.stderr
    assert "Traceback" not in result.stderr
