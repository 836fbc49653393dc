"""The frozen mor-launch runs: devnet on the bundled anvil, clean SIGTERM, no orphans, nothing on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.packaging.conftest import NOT_BUILT, ONEDIR_EXE, ROOT, frozen_executable

EXE = frozen_executable()
INTERNAL = ONEDIR_EXE.parent / "_internal"
needs_build = pytest.mark.skipif(EXE is None, reason=NOT_BUILT)
needs_onedir = pytest.mark.skipif(
    not INTERNAL.is_dir(), reason=f"no one-folder build at {INTERNAL.parent.relative_to(ROOT)} (packaging/build.sh)"
)


def _metrics(output: str) -> dict[str, float]:
    return {
        name: float(value)
        for line in output.splitlines()
        if line.startswith("metric ")
        for name, value in [line.split()[1:3]]
    }


@pytest.mark.frozen
@pytest.mark.slow
@needs_build
def test_frozen_app_serves_the_devnet_and_stops_cleanly_on_sigterm() -> None:
    assert EXE is not None
    env = {k: v for k, v in os.environ.items() if k not in {"ANVIL_PATH", "MOR_RESOURCES_DIR", "PYTHONPATH"}}
    # PATH without an anvil, so the run proves the bundled one works.
    env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if "node_modules" not in p)
    result = subprocess.run(
        [str(ROOT / "packaging" / "smoke.sh"), str(EXE)],
        capture_output=True, text=True, env=env, timeout=280, check=False,
    )
    sys.stdout.write(result.stdout)

    assert result.returncode == 0, result.stderr[-3000:]
    assert "smoke: devnet: clean exit, no orphans, empty stderr" in result.stdout
    metrics = _metrics(result.stdout)
    assert metrics["devnet_ready_s"] > 0
    assert metrics["devnet_anvil_rss_mb"] > 0  # anvil ran as our child, from inside the bundle


@pytest.mark.frozen
@needs_build
def test_frozen_app_reports_a_user_error_in_one_line_without_a_traceback(isolated_data_dir: Path) -> None:
    assert EXE is not None
    result = subprocess.run(
        [str(EXE), "devnet", "fund", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"mor-launch devnet: No devnet is running for the data folder {isolated_data_dir}: "
        "start one with `mor-launch devnet`."
    ]


@pytest.mark.frozen
@needs_onedir
def test_bundle_has_the_offscreen_and_xcb_qt_platform_plugins() -> None:
    platforms = INTERNAL / "PySide6" / "Qt" / "plugins" / "platforms"
    assert (platforms / "libqoffscreen.so").is_file()
    assert (platforms / "libqxcb.so").is_file()


@pytest.mark.frozen
@needs_onedir
def test_bundle_has_resources_wordlists_and_an_executable_anvil() -> None:
    resources = INTERNAL / "resources"
    assert (resources / "contracts" / "artifacts" / "Diamond.abi.json").is_file()
    assert (resources / "examples" / "models-config.json.example").is_file()
    assert (resources / "openapi" / "openapi.json").is_file()
    assert (resources / "icons" / "mor-launch.svg").is_file()
    assert not (resources / "contracts" / "src").exists()  # sources are build-time only
    assert (INTERNAL / "eth_account" / "hdaccount" / "wordlist" / "english.txt").is_file()
    assert os.access(INTERNAL / "anvil", os.X_OK)


@pytest.mark.frozen
@needs_onedir
def test_bundle_carries_package_metadata_eth_tester_reads_at_import() -> None:
    names = {p.name.split("-")[0].lower().replace("_", "-") for p in INTERNAL.glob("*.dist-info")}
    assert {"eth-bloom", "eth-tester", "py-evm", "trie", "cytoolz"} <= names


def test_executable_lookup_prefers_an_explicit_path(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("MOR_FROZEN_EXE", str(tmp_path / "mor-launch"))
    assert frozen_executable() == tmp_path / "mor-launch"
