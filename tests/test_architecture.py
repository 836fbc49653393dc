"""The layer rules of docs/architecture.md, enforced on the source tree."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest

import app

APP_DIR = Path(app.__file__).parent

# package → third-party top-level modules it must never import
FORBIDDEN: dict[str, set[str]] = {
    "router": {"PySide6", "qasync", "web3", "eth_tester"},
    "chain": {"PySide6", "qasync"},
    "wallet": {"PySide6", "qasync", "web3", "aiohttp"},
    "storage": {"PySide6", "qasync", "web3", "aiohttp", "eth_account"},
    "devnet": {"PySide6", "qasync"},
}
QT_MODULES = {"PySide6", "qasync", "shiboken6"}
WEB3_MODULES = {"web3", "eth_tester"}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


def _app_sources() -> list[Path]:
    return sorted(APP_DIR.rglob("*.py"))


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layer_does_not_import_forbidden_modules(package: str) -> None:
    offenders = []
    for path in sorted((APP_DIR / package).rglob("*.py")):
        bad = _imports(path) & FORBIDDEN[package]
        if bad:
            offenders.append(f"{path.relative_to(APP_DIR)}: {sorted(bad)}")
    assert not offenders, "layer rule broken:\n" + "\n".join(offenders)


def _app_imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("app."))
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0 and node.module.startswith("app."):
            found.add(node.module)
    return found


def test_router_shares_only_plain_records_with_the_chain_layer() -> None:
    """The router sees the chain through app/router/ports.py; from app.chain it may import only the records."""
    offenders = []
    for path in sorted((APP_DIR / "router").rglob("*.py")):
        bad = {m for m in _app_imports(path) if m.startswith(("app.chain", "app.devnet", "app.gui", "app.wallet"))}
        bad -= {"app.chain.records"}
        if bad:
            offenders.append(f"{path.relative_to(APP_DIR)}: {sorted(bad)}")
    assert not offenders, "router reaches past its ports:\n" + "\n".join(offenders)


def test_chain_records_stay_free_of_eth_libraries() -> None:
    """app.chain.records is the vocabulary shared with the router, so it must import nothing but the stdlib."""
    imported = _imports(APP_DIR / "chain" / "records.py")
    assert imported <= {"__future__", "dataclasses", "typing"}, imported


def test_qt_is_imported_only_in_gui() -> None:
    offenders = [
        str(p.relative_to(APP_DIR))
        for p in _app_sources()
        if _imports(p) & QT_MODULES and "gui" not in p.relative_to(APP_DIR).parts[:1]
    ]
    assert not offenders, f"Qt imported outside app/gui: {offenders}"


def test_web3_is_imported_only_in_chain_and_devnet() -> None:
    allowed = {"chain", "devnet"}
    offenders = [
        str(p.relative_to(APP_DIR))
        for p in _app_sources()
        if _imports(p) & WEB3_MODULES and p.relative_to(APP_DIR).parts[0] not in allowed
    ]
    assert not offenders, f"web3 imported outside app/chain and app/devnet: {offenders}"


def test_router_imports_without_qt_or_web3() -> None:
    """Import every router module in a fresh interpreter where PySide6 and web3 cannot be imported."""
    script = (
        "import sys\n"
        "class Block:\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in {'PySide6', 'qasync', 'web3', 'shiboken6'}:\n"
        "            raise ImportError('blocked: ' + name)\n"
        "        return None\n"
        "sys.meta_path.insert(0, Block())\n"
        "import pkgutil, importlib, app.router\n"
        "for m in pkgutil.walk_packages(app.router.__path__, 'app.router.'):\n"
        "    importlib.import_module(m.name)\n"
        "print('ok')\n"
    )
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def _all_modules() -> list[str]:
    return sorted(
        m.name
        for m in pkgutil.walk_packages(app.__path__, "app.")
        if not m.name.startswith("app.gui") and not m.name.endswith("__main__")
    )


@pytest.mark.parametrize("module", _all_modules())
def test_every_module_imports_on_its_own(module: str) -> None:
    importlib.import_module(module)


def test_every_module_has_a_docstring() -> None:
    missing = [
        str(p.relative_to(APP_DIR))
        for p in _app_sources()
        if ast.get_docstring(ast.parse(p.read_text(encoding="utf-8"))) is None
    ]
    assert not missing, f"modules without a one-line docstring: {missing}"
