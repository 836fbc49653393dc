"""The fallback dependency audit (packaging/audit_deps.py, .ci/audit) against a fake PyPI on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "packaging" / "audit_deps.py"


def _load() -> ModuleType:
    # Loaded by path: packaging/ is not a package (it would shadow the `packaging` library).
    spec = importlib.util.spec_from_file_location("audit_deps", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["audit_deps"] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


audit_deps = _load()


@dataclass
class FakeIndex:
    """Answers GET /pypi/<name>/json from `projects`; `fail_first` names get one 503 before their answer."""

    url: str
    projects: dict[str, tuple[int, bytes]] = field(default_factory=dict)
    fail_first: set[str] = field(default_factory=set)
    requests: list[str] = field(default_factory=list)

    def add(self, name: str, latest: str, vulnerabilities: list[dict[str, Any]] | None = None, **releases: Any) -> None:
        files = {version: [{"filename": f"{name}-{version}.tar.gz", "yanked": False}] for version in releases}
        files.update({v: f for v, f in releases.items() if isinstance(f, list)})
        files.setdefault(latest, [{"filename": f"{name}-{latest}.tar.gz", "yanked": False}])
        body = {"info": {"name": name, "version": latest}, "releases": files, "vulnerabilities": vulnerabilities or []}
        self.projects[name] = (200, json.dumps(body).encode())


def _advisory(id_: str, *aliases: str, fixed_in: tuple[str, ...] = (), withdrawn: str | None = None) -> dict[str, Any]:
    return {
        "id": id_,
        "aliases": list(aliases),
        "details": "details",
        "fixed_in": list(fixed_in),
        "link": f"https://osv.dev/vulnerability/{id_}",
        "source": "osv",
        "summary": None,
        "withdrawn": withdrawn,
    }


@pytest.fixture
def index() -> Iterator[FakeIndex]:
    fake = FakeIndex(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            fake.requests.append(self.path)
            parts = self.path.strip("/").split("/")
            name = parts[1] if len(parts) == 3 and parts[0] == "pypi" and parts[2] == "json" else ""
            if name in fake.fail_first:
                fake.fail_first.discard(name)
                status, body = 503, b"busy"
            else:
                status, body = fake.projects.get(name, (404, b'{"message": "Not Found"}'))
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def _pins(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "installed.txt"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _run(index_url: str, requirements: Path, monkeypatch: pytest.MonkeyPatch, **env: str) -> tuple[int, str]:
    for name in ("AUDIT_REQUIRED", "AUDIT_IGNORE_VULNS", "AUDIT_INDEX_URL", "AUDIT_REQUIREMENTS"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    out = io.StringIO()
    code = audit_deps.main(["--index-url", index_url, "--requirements", str(requirements)], out=out)
    return code, out.getvalue()


def _closed_port_url() -> str:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_packages_at_their_latest_release_without_advisories_pass(
    index: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index.add("aiohttp", "3.14.5")
    index.add("web3", "8.0.0")

    code, out = _run(index.url, _pins(tmp_path, "aiohttp==3.14.5", "web3==8.0"), monkeypatch)

    assert code == 0, out
    assert "2 packages" in out
    assert "2 at their latest release with no advisories" in out
    assert "0 vulnerable" in out
    assert "NOT audited" not in out
    assert sorted(index.requests) == ["/pypi/aiohttp/json", "/pypi/web3/json"]


def test_an_advisory_on_the_installed_latest_release_fails_and_is_named(
    index: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ghsa = _advisory("GHSA-aaaa-bbbb-cccc", "CVE-2025-1111", "PYSEC-2025-7", fixed_in=("5.6.4",))
    # PyPI lists the same vulnerability once per database; it is reported once.
    pysec = _advisory("PYSEC-2025-7", "CVE-2025-1111", "GHSA-aaaa-bbbb-cccc", fixed_in=("5.6.4",))
    index.add("diskcache", "5.6.3", [ghsa, pysec])
    index.add("web3", "8.0.0")

    code, out = _run(index.url, _pins(tmp_path, "diskcache==5.6.3", "web3==8.0.0"), monkeypatch)

    assert code == 1, out
    assert "1 vulnerable at their latest release" in out
    assert "diskcache 5.6.3" in out
    assert "GHSA-aaaa-bbbb-cccc (CVE-2025-1111, PYSEC-2025-7), fixed in 5.6.4" in out
    assert out.count("CVE-2025-1111") == 1
    assert "FAILED: 1 vulnerable" in out


def test_withdrawn_advisories_are_ignored(index: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index.add("requests", "2.34.2", [_advisory("GHSA-wwww-xxxx-yyyy", withdrawn="2025-01-01T00:00:00Z")])

    code, out = _run(index.url, _pins(tmp_path, "requests==2.34.2"), monkeypatch)

    assert code == 0, out
    assert "1 at their latest release with no advisories" in out
    assert "GHSA-wwww-xxxx-yyyy" not in out


def test_advisories_listed_in_audit_ignore_vulns_are_reported_but_do_not_fail(
    index: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index.add("diskcache", "5.6.3", [_advisory("GHSA-aaaa-bbbb-cccc", "CVE-2025-1111")])

    code, out = _run(index.url, _pins(tmp_path, "diskcache==5.6.3"), monkeypatch, AUDIT_IGNORE_VULNS="CVE-2025-1111")

    assert code == 0, out
    assert "ignored (AUDIT_IGNORE_VULNS): diskcache 5.6.3: GHSA-aaaa-bbbb-cccc" in out


def test_a_yanked_installed_version_fails_with_its_reason(
    index: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    yanked = [
        {"filename": "foo-1.2.0.tar.gz", "yanked": True, "yanked_reason": "CVE-2024-9999, use 1.2.1"},
        {"filename": "foo-1.2.0-py3-none-any.whl", "yanked": True, "yanked_reason": "CVE-2024-9999, use 1.2.1"},
    ]
    index.add("foo", "1.3.0", **{"1.2.0": yanked})
    # One yanked file among good ones is not a yanked release.
    partly = [{"filename": "bar-2.0.tar.gz", "yanked": False}, {"filename": "bar-2.0.whl", "yanked": True}]
    index.add("bar", "2.1", **{"2.0": partly})

    code, out = _run(index.url, _pins(tmp_path, "foo==1.2.0", "bar==2.0"), monkeypatch)

    assert code == 1, out
    assert "foo 1.2.0 (latest 1.3.0): yanked, reason: CVE-2024-9999, use 1.2.1" in out
    assert "bar 2.0 → 2.1" in out
    assert "FAILED: 0 vulnerable, 1 yanked" in out


def test_packages_behind_latest_are_named_as_not_audited_without_failing(
    index: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index.add("web3", "7.3.0", **{"7.1.0": True})
    index.add("urllib3", "2.8.0", [_advisory("GHSA-uuuu-vvvv-wwww")], **{"2.7.0": True})
    index.add("aiohttp", "3.14.5")

    code, out = _run(index.url, _pins(tmp_path, "web3==7.1.0", "urllib3==2.7.0", "aiohttp==3.14.5"), monkeypatch)

    assert code == 0, out
    assert "2 NOT audited, not at their latest release" in out
    assert "urllib3 2.7.0 → 2.8.0, web3 7.1.0 → 7.3.0" in out
    # An advisory on the latest release may well cover the older one too: it is pointed out, not hidden.
    assert "urllib3's latest release 2.8.0 itself has advisories (GHSA-uuuu-vvvv-wwww); check 2.7.0" in out
    assert "1 at their latest release with no advisories" in out
    assert "2 packages were NOT audited" in out


def test_projects_missing_from_the_index_are_listed(
    index: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index.add("web3", "8.0.0")

    code, out = _run(index.url, _pins(tmp_path, "web3==8.0.0", "our-private-lib==0.1"), monkeypatch)

    assert code == 0, out
    assert "1 not on PyPI:\n    our-private-lib 0.1" in out


def test_a_503_is_retried_once(index: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    index.add("web3", "8.0.0")
    index.fail_first.add("web3")

    code, out = _run(index.url, _pins(tmp_path, "web3==8.0.0"), monkeypatch)

    assert code == 0, out
    assert "1 at their latest release with no advisories" in out
    assert index.requests == ["/pypi/web3/json", "/pypi/web3/json"]


@pytest.mark.parametrize(("required", "expected"), [("0", 0), ("1", 2)])
def test_an_unreachable_index_means_not_audited_and_fails_only_when_required(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, required: str, expected: int
) -> None:
    code, out = _run(_closed_port_url(), _pins(tmp_path, "web3==8.0.0"), monkeypatch, AUDIT_REQUIRED=required)

    assert code == expected, out
    assert "NO VULNERABILITY DATABASE REACHABLE" in out
    assert "The environment was NOT audited" in out


def test_malformed_json_from_the_index_is_reported_without_a_traceback(
    index: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index.add("web3", "8.0.0")
    index.projects["broken"] = (200, b"<html>captive portal</html>")
    index.projects["odd"] = (200, b'["not", "a", "project"]')
    index.projects["shape"] = (200, b'{"info": {"version": "1.0"}, "vulnerabilities": 7}')
    pins = _pins(tmp_path, "web3==8.0.0", "broken==1.0", "odd==1.0", "shape==1.0")

    code, out = _run(index.url, pins, monkeypatch)

    assert code == 0, out
    assert "3 unreachable (NOT audited):\n    broken 1.0, odd 1.0, shape 1.0" in out
    assert f"{index.url}/pypi/broken/json did not return JSON" in out
    assert "Traceback" not in out

    index.projects["web3"] = (200, b"{")
    code, out = _run(index.url, _pins(tmp_path, "web3==8.0.0"), monkeypatch, AUDIT_REQUIRED="1")
    assert code == 2, out
    assert "NOT audited" in out
    assert "did not return JSON" in out


def test_a_malformed_requirements_line_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    code, out = _run(_closed_port_url(), _pins(tmp_path, "# pinned", "web3>=7"), monkeypatch)

    assert code == 2
    assert "installed.txt:2: expected 'name==version', got 'web3>=7'" in out


def test_installed_distributions_skip_editable_installs_and_named_projects(tmp_path: Path) -> None:
    def dist(name: str, version: str, direct_url: dict[str, Any] | None = None) -> None:
        info = tmp_path / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8")
        if direct_url is not None:
            (info / "direct_url.json").write_text(json.dumps(direct_url), encoding="utf-8")

    dist("web3", "8.0.0")
    dist("Some_Lib", "1.0")
    dist("morpheus-desktop-node", "0.1.0", {"url": "file:///work/main", "dir_info": {"editable": True}})
    dist("local-wheel", "2.0", {"url": "file:///tmp/local_wheel-2.0.whl", "archive_info": {}})

    found = audit_deps.installed_distributions(skip=["some-lib"], path=[str(tmp_path)])

    assert found == [("local-wheel", "2.0"), ("web3", "8.0.0")]
    assert audit_deps.project_name() == "morpheus-desktop-node"


def test_ci_audit_falls_back_to_the_project_json_when_pip_audit_has_no_service(
    index: FakeIndex, tmp_path: Path
) -> None:
    index.add("diskcache", "5.6.3", [_advisory("GHSA-aaaa-bbbb-cccc", "CVE-2025-1111")])
    index.add("web3", "8.0.0")
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("AUDIT_")},
        "PYTHON": sys.executable,
        "AUDIT_SERVICES": "none",
        "AUDIT_INDEX_URL": index.url,
        "AUDIT_REQUIREMENTS": str(_pins(tmp_path, "diskcache==5.6.3", "web3==8.0.0")),
    }

    bash = shutil.which("bash")
    assert bash is not None
    proc = subprocess.run(
        [bash, str(ROOT / ".ci" / "audit")], env=env, capture_output=True, text=True, timeout=60, check=False
    )

    assert proc.returncode == 1, proc.stdout + proc.stderr
    assert "== fallback audit" in proc.stdout
    assert "GHSA-aaaa-bbbb-cccc (CVE-2025-1111)" in proc.stdout
    assert proc.stderr == ""
