"""Fixtures shared by the whole suite: isolated data dirs, offscreen Qt, no stray network."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

pytest_plugins = ["tests.support.fixtures"]


@pytest.fixture(autouse=True)
def isolated_data_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own empty data folder, so nothing leaks between tests or into $HOME."""
    path = tmp_path_factory.mktemp("data")
    monkeypatch.setenv("MOR_DATA_DIR", str(path))
    monkeypatch.setenv("LOG_FOLDER_PATH", str(path / "logs"))
    return path
