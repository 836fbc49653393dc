"""Both run modes log through the one setup: headless to stderr and its file, the desktop app to its file."""

from __future__ import annotations

import asyncio
import io
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.bootstrap.headless import install_headless_logging, main, run
from app.bootstrap.logs import LOG_FILE, uninstall_logging
from app.config.settings import load_settings
from app.gui import prefs
from app.gui.app import GUI_SETTINGS_FILE, _log_to_file


@pytest.fixture(autouse=True)
def undo_logging() -> Iterator[None]:
    yield
    uninstall_logging()


async def test_headless_start_writes_its_log_file_and_console(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(f"WEB_ADDRESS=127.0.0.1:0\nMOR_DATA_DIR={tmp_path / 'data'}\n"
                                   f"LOG_FOLDER_PATH={tmp_path / 'logs'}\nLOG_LEVEL_ETH_RPC=info\n")  # fmt: skip
    settings = load_settings([], environ={}, dotenv_path=tmp_path / ".env")
    console = io.StringIO()
    installed = install_headless_logging(settings, console=console)
    stop, ready = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(run(settings, stop=stop, out=io.StringIO(), ready=ready, demo=False))
    await asyncio.wait_for(ready.wait(), 120)
    stop.set()
    assert await asyncio.wait_for(task, 60) == 0
    assert installed.file == tmp_path / "logs" / LOG_FILE
    text = installed.file.read_text()
    assert "\tINFO\tapp.chain.client\tconnected to " in text
    assert "connected to " in console.getvalue()


async def test_headless_log_defaults_to_the_data_folder(tmp_path: Path) -> None:
    settings = load_settings([], environ={"MOR_DATA_DIR": str(tmp_path / "data")}, dotenv_path=tmp_path / ".env")
    installed = install_headless_logging(settings, console=io.StringIO())
    assert installed.file == tmp_path / "data" / "logs" / LOG_FILE


def test_headless_exits_2_naming_log_folder_path_when_it_cannot_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("LOG_FOLDER_PATH", str(tmp_path / "not-a-folder" / "logs"))
    assert main([]) == 2
    err = capsys.readouterr().err
    assert "mor-launch --headless" in err and "LOG_FOLDER_PATH" in err


def test_desktop_log_follows_the_gui_settings_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # no ./.env
    monkeypatch.delenv("LOG_FOLDER_PATH", raising=False)  # the env would win over the settings file
    data = Path(os.environ["MOR_DATA_DIR"])
    (data / GUI_SETTINGS_FILE).write_text(json.dumps({"LOG_JSON": True, "LOG_FOLDER_PATH": str(tmp_path / "gl")}))
    path = _log_to_file([])
    logging.getLogger("app.gui.controller").info("window shown")
    assert path == tmp_path / "gl" / LOG_FILE
    assert json.loads(path.read_text().splitlines()[-1])["msg"] == "window shown"


def test_desktop_falls_back_to_the_default_folder_when_log_folder_path_is_unwritable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "not-a-folder").write_text("")
    monkeypatch.setenv("LOG_FOLDER_PATH", str(tmp_path / "not-a-folder" / "logs"))
    monkeypatch.setattr("app.paths.log_dir", lambda: tmp_path / "default-logs")
    path = _log_to_file([])
    assert path == tmp_path / "default-logs" / LOG_FILE
    assert "Set LOG_FOLDER_PATH to a writable folder. Logging to" in path.read_text()


def test_desktop_settings_file_name_is_the_one_the_gui_writes() -> None:
    assert GUI_SETTINGS_FILE == prefs.SETTINGS_FILE
