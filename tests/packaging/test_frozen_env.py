"""Programs outside the bundle get the user's environment, not the frozen app's library and plugin paths."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from app.frozen_env import external_environment

BUNDLE = "/opt/mor-launch/_internal"
FROZEN_ENV = {
    "HOME": "/home/user",
    "LD_LIBRARY_PATH": f"{BUNDLE}:/opt/user/lib",
    "LD_LIBRARY_PATH_ORIG": "/opt/user/lib",
    "QT_PLUGIN_PATH": f"{BUNDLE}/PySide6/Qt/plugins",
    "QML2_IMPORT_PATH": f"{BUNDLE}/PySide6/Qt/qml",
    "MOR_RESOURCES_DIR": f"{BUNDLE}/resources",
    "_PYI_ARCHIVE_FILE": "/opt/mor-launch",
    "_PYI_PARENT_PROCESS_LEVEL": "1",
}


def test_library_path_goes_back_to_the_users_value() -> None:
    env = external_environment(FROZEN_ENV, BUNDLE)
    assert env["LD_LIBRARY_PATH"] == "/opt/user/lib"
    assert "LD_LIBRARY_PATH_ORIG" not in env


def test_library_path_the_bootloader_added_is_removed_when_the_user_had_none() -> None:
    env = external_environment({"LD_LIBRARY_PATH": f"{BUNDLE}/"}, BUNDLE)
    assert "LD_LIBRARY_PATH" not in env


def test_qt_plugin_paths_and_pyinstaller_markers_are_dropped_and_the_rest_kept() -> None:
    env = external_environment(FROZEN_ENV, BUNDLE)
    assert env == {"HOME": "/home/user", "LD_LIBRARY_PATH": "/opt/user/lib"}


def test_a_users_own_qt_plugin_path_is_kept() -> None:
    env = external_environment({"QT_PLUGIN_PATH": "/usr/lib/qt6/plugins"}, BUNDLE)
    assert env == {"QT_PLUGIN_PATH": "/usr/lib/qt6/plugins"}


def test_a_sibling_folder_with_the_bundle_as_prefix_is_not_inside_it() -> None:
    env = external_environment({"QT_PLUGIN_PATH": f"{BUNDLE}-other/plugins"}, BUNDLE)
    assert env == {"QT_PLUGIN_PATH": f"{BUNDLE}-other/plugins"}


def test_outside_a_frozen_app_the_environment_is_an_unchanged_copy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delattr(sys, "_MEIPASS", raising=False)
    env = external_environment()
    assert env == dict(os.environ)
    assert env is not os.environ


def test_a_child_started_with_it_sees_the_users_library_path() -> None:
    env = external_environment(FROZEN_ENV, BUNDLE)
    out = subprocess.run(
        [sys.executable, "-c", "import os; print(os.environ.get('LD_LIBRARY_PATH'), os.environ.get('QT_PLUGIN_PATH'))"],
        env={**env, "PATH": os.environ.get("PATH", "")}, capture_output=True, text=True, check=True,
    ).stdout.split()
    assert out == ["/opt/user/lib", "None"]
