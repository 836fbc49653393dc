"""Linux desktop integration: the .desktop entry, the icon set drawn by packaging/make_icons.py, the bundle hook."""

from __future__ import annotations

import configparser
import importlib.util
import os
import runpy
import shutil
import struct
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

ROOT = Path(__file__).resolve().parents[2]
DESKTOP = ROOT / "resources" / "linux" / "mor-launch.desktop"
ICONS = ROOT / "resources" / "icons"
RTHOOK = ROOT / "packaging" / "rthooks" / "mor_bundle.py"


def _make_icons() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_icons", ROOT / "packaging" / "make_icons.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _unset(monkeypatch: pytest.MonkeyPatch, *names: str) -> None:
    # setenv first so monkeypatch records the original state and removes what the hook sets afterwards
    # (delenv of an absent variable records nothing, and the hook's value would leak into later tests).
    for name in names:
        monkeypatch.setenv(name, "")
        monkeypatch.delenv(name)


def _png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return width, height


def test_desktop_entry_starts_mor_launch_with_its_icon() -> None:
    parser = configparser.ConfigParser(interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(DESKTOP, encoding="utf-8")
    entry = parser["Desktop Entry"]
    assert entry["Type"] == "Application"
    assert entry["Exec"].split()[0] == "mor-launch"
    assert entry["Icon"] == "mor-launch"
    assert entry["Terminal"] == "false"


VALIDATE = shutil.which("desktop-file-validate")


@pytest.mark.skipif(VALIDATE is None, reason="desktop-file-validate not found (Debian package desktop-file-utils)")
def test_desktop_entry_passes_desktop_file_validate() -> None:
    assert VALIDATE is not None
    result = subprocess.run([VALIDATE, str(DESKTOP)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""  # not even hints


def test_icon_set_has_a_square_png_for_every_size_16_to_512() -> None:
    sizes = _make_icons().SIZES
    assert min(sizes) == 16 and max(sizes) == 512
    for size in sizes:
        assert _png_size(ICONS / f"mor-launch-{size}.png") == (size, size)


def test_committed_svg_is_what_make_icons_draws() -> None:
    assert (ICONS / "mor-launch.svg").read_text(encoding="utf-8") == _make_icons().svg_source()


def test_runtime_hook_points_resources_and_model_into_the_bundle(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf").write_bytes(b"GGUF")
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    _unset(monkeypatch, "MOR_RESOURCES_DIR", "MOR_LOCAL_MODEL_GGUF")

    runpy.run_path(str(RTHOOK))

    assert os.environ["MOR_RESOURCES_DIR"] == str(tmp_path / "resources")
    assert os.environ["MOR_LOCAL_MODEL_GGUF"] == str(tmp_path / "models" / "SmolLM2-135M-Instruct.Q4_1.gguf")


def test_runtime_hook_keeps_a_resources_dir_the_user_set(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(sys, "_MEIPASS", str(tmp_path), raising=False)
    monkeypatch.setenv("MOR_RESOURCES_DIR", "/srv/my-resources")
    _unset(monkeypatch, "MOR_LOCAL_MODEL_GGUF")

    runpy.run_path(str(RTHOOK))

    assert os.environ["MOR_RESOURCES_DIR"] == "/srv/my-resources"
    assert "MOR_LOCAL_MODEL_GGUF" not in os.environ  # a bundle without the model sets nothing
