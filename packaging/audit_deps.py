"""Fallback dependency audit: PyPI's latest-release advisories and yanked releases for every installed distribution."""

# Run as a script (`python packaging/audit_deps.py`), not `-m`: this folder is not a package, and making it one would
# shadow the `packaging` library this module imports.
#
# Why this exists: pip-audit needs pypi.org's per-release JSON or api.osv.dev. Where only the per-project JSON
# (https://pypi.org/pypi/<name>/json) is reachable, its "vulnerabilities" list is PyPI's OSV-fed advisory list for
# the *latest* release only. So a distribution installed at its latest release is audited exactly as pip-audit would
# audit it; one behind latest is not audited at all (we say so and name it). Every installed version is also checked
# for being yanked (all its files), which is often done for security reasons.
#
# Exit codes (the same contract as .ci/audit): 0 = nothing known-vulnerable or yanked (or nothing reachable and
# AUDIT_REQUIRED is not 1); 1 = a vulnerable or yanked installed version; 2 = nothing reachable and AUDIT_REQUIRED=1.
# Environment: AUDIT_INDEX_URL (default https://pypi.org), AUDIT_REQUIREMENTS (a name==version file instead of the
# installed environment), AUDIT_IGNORE_VULNS (advisory ids or aliases accepted after review: printed, not failed).

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any, TextIO

from packaging.version import InvalidVersion, Version

DEFAULT_INDEX = "https://pypi.org"
CONCURRENCY = 16
TIMEOUT_S = 20.0
ROOT = Path(__file__).resolve().parents[1]

# Statuses, in the order the summary reports them.
VULNERABLE = "latest-VULNERABLE"
YANKED = "yanked"
CLEAN = "latest-clean"
BEHIND = "behind"
AHEAD = "ahead"  # installed newer than PyPI's latest (a pre-release or a local build): no advisories to compare
NOT_ON_PYPI = "not-on-pypi"
UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class Advisory:
    """One non-withdrawn advisory from PyPI's project JSON."""

    id: str
    aliases: tuple[str, ...]
    fixed_in: tuple[str, ...]
    link: str

    def describe(self) -> str:
        aliases = f" ({', '.join(self.aliases)})" if self.aliases else ""
        fixed = f"fixed in {', '.join(self.fixed_in)}" if self.fixed_in else "no fixed release"
        link = f" {self.link}" if self.link else ""
        return f"{self.id}{aliases}, {fixed}{link}"


@dataclass
class Result:
    """What the audit found for one installed distribution."""

    name: str
    installed: str
    status: str
    latest: str = ""
    advisories: list[Advisory] = field(default_factory=list)
    ignored: list[Advisory] = field(default_factory=list)  # listed in AUDIT_IGNORE_VULNS: reported, not failed
    yanked_reason: str | None = None
    problem: str = ""  # why a distribution is unreachable / not on PyPI


class FetchError(Exception):
    """The index gave no usable project JSON (the message says why, for the report)."""


class NotFound(FetchError):
    """The index answered 404: no such project."""


Fetcher = Callable[[str], dict[str, Any]]


def canonical(name: str) -> str:
    """PEP 503 normalised project name (what the index URLs use)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def project_name(pyproject: Path = ROOT / "pyproject.toml") -> str | None:
    """Our own distribution's name (it is not on PyPI, so it is skipped)."""
    try:
        with pyproject.open("rb") as f:
            return str(tomllib.load(f)["project"]["name"])
    except (OSError, KeyError, tomllib.TOMLDecodeError):
        return None


def _is_editable(dist: metadata.Distribution) -> bool:
    text = dist.read_text("direct_url.json")
    if not text:
        return False
    try:
        return bool(json.loads(text).get("dir_info", {}).get("editable"))
    except (ValueError, AttributeError):
        return False


def installed_distributions(skip: Iterable[str] = (), path: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """(name, version) of every distribution on `path` (default sys.path; first one wins), editables skipped."""
    skipped = {canonical(s) for s in skip}
    seen: dict[str, tuple[str, str]] = {}
    for dist in metadata.distributions(path=list(sys.path if path is None else path)):
        name = dist.metadata["Name"] if dist.metadata else None
        if not name or canonical(name) in seen or canonical(name) in skipped or _is_editable(dist):
            continue
        seen[canonical(name)] = (name, dist.version)
    return sorted(seen.values(), key=lambda nv: canonical(nv[0]))


def read_requirements(path: Path) -> list[tuple[str, str]]:
    """name==version lines (comments and blank lines ignored), as `pip freeze` writes them."""
    pins: list[tuple[str, str]] = []
    for number, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        name, sep, version = line.partition("==")
        if not sep or not name.strip() or not version.strip():
            raise ValueError(f"{path}:{number}: expected 'name==version', got {raw.strip()!r}")
        pins.append((name.strip(), version.strip()))
    return pins


def http_fetcher(index_url: str, timeout: float = TIMEOUT_S, attempts: int = 2) -> Fetcher:
    """GET <index>/pypi/<name>/json, retrying once on a network error or a 5xx; 404 → NotFound."""
    base = index_url.rstrip("/")

    def fetch(name: str) -> dict[str, Any]:
        url = f"{base}/pypi/{urllib.parse.quote(canonical(name))}/json"
        request = urllib.request.Request(  # noqa: S310 - the index URL is ours (https by default, http in tests)
            url, headers={"Accept": "application/json", "User-Agent": "morpheus-node-audit/1"}
        )
        problem = ""
        for _ in range(attempts):
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
                    body = response.read()
            except urllib.error.HTTPError as e:
                e.close()  # its body is not needed; an open one would warn when collected
                if e.code == 404:
                    raise NotFound(f"{url} answered 404") from e
                problem = f"{url} answered HTTP {e.code}"
                if e.code < 500:
                    break
                continue
            except (TimeoutError, urllib.error.URLError, OSError) as e:
                reason = getattr(e, "reason", e)
                problem = f"{url}: {reason}"
                continue
            try:
                data = json.loads(body)
            except ValueError as e:
                raise FetchError(f"{url} did not return JSON ({e.__class__.__name__}: {e})") from e
            if not isinstance(data, dict) or not isinstance(data.get("info"), dict):
                raise FetchError(f"{url} returned JSON without an 'info' object (not PyPI's project JSON)")
            return data
        raise FetchError(problem)

    return fetch


def _version(text: str) -> Version | None:
    try:
        return Version(text)
    except InvalidVersion:
        return None


def _same(a: str, b: str) -> bool:
    va, vb = _version(a), _version(b)
    return va == vb if va is not None and vb is not None else a == b


def _advisories(data: dict[str, Any]) -> list[Advisory]:
    """Non-withdrawn advisories; one per vulnerability (PyPI lists e.g. the GHSA and the PYSEC id of the same one)."""
    found: list[Advisory] = []
    known: set[str] = set()
    for item in data.get("vulnerabilities") or []:
        if not isinstance(item, dict) or item.get("withdrawn"):
            continue
        advisory = Advisory(
            id=str(item.get("id") or "?"),
            aliases=tuple(str(a) for a in item.get("aliases") or []),
            fixed_in=tuple(str(v) for v in item.get("fixed_in") or []),
            link=str(item.get("link") or ""),
        )
        names = {advisory.id, *advisory.aliases}
        if names & known:
            continue
        known |= names
        found.append(advisory)
    return found


def _yanked_reason(data: dict[str, Any], installed: str) -> str | None:
    """The yank reason when every file of the installed release is yanked ("" if no reason given), else None."""
    releases = data.get("releases")
    if not isinstance(releases, dict):
        return None
    files = next((f for v, f in releases.items() if _same(str(v), installed)), None)
    if not isinstance(files, list) or not files or not all(isinstance(f, dict) and f.get("yanked") for f in files):
        return None
    reasons = {str(f.get("yanked_reason") or "") for f in files} - {""}
    return "; ".join(sorted(reasons))


def classify(name: str, installed: str, data: dict[str, Any], ignore: frozenset[str] = frozenset()) -> Result:
    """One distribution's status from its project JSON; advisories whose id or alias is in `ignore` do not count."""
    latest = str(data["info"].get("version") or "")
    result = Result(name, installed, CLEAN, latest=latest, yanked_reason=_yanked_reason(data, installed))
    advisories: list[Advisory] = []
    for advisory in _advisories(data):
        ignored = {advisory.id, *advisory.aliases} & ignore
        (result.ignored if ignored else advisories).append(advisory)
    if _same(installed, latest):
        result.advisories = advisories
        result.status = VULNERABLE if advisories else (YANKED if result.yanked_reason is not None else CLEAN)
        return result
    # The latest release's advisories say nothing certain about an older one; kept to name them in the summary.
    result.advisories = advisories
    vi, vl = _version(installed), _version(latest)
    ahead = vi is not None and vl is not None and vi > vl
    result.status = YANKED if result.yanked_reason is not None else (AHEAD if ahead else BEHIND)
    return result


def audit(
    pins: Sequence[tuple[str, str]],
    fetch: Fetcher,
    ignore: Iterable[str] = (),
    concurrency: int = CONCURRENCY,
) -> list[Result]:
    """Fetch every project JSON (bounded concurrency) and classify each pin."""
    ignored = frozenset(ignore)

    def one(pin: tuple[str, str]) -> Result:
        name, installed = pin
        try:
            data = fetch(name)
        except NotFound as e:
            return Result(name, installed, NOT_ON_PYPI, problem=str(e))
        except FetchError as e:
            return Result(name, installed, UNREACHABLE, problem=str(e))
        try:
            return classify(name, installed, data, ignored)
        except (TypeError, ValueError, AttributeError) as e:  # a field of an unexpected type
            problem = f"the index's project JSON for {name} has an unexpected shape ({e.__class__.__name__}: {e})"
            return Result(name, installed, UNREACHABLE, problem=problem)

    with ThreadPoolExecutor(max_workers=max(1, concurrency)) as pool:
        return list(pool.map(one, pins))


def _listing(results: Sequence[Result], show: Callable[[Result], str], width: int = 118) -> str:
    """Comma-separated, indented, wrapped between items (never inside one)."""
    lines: list[str] = []
    line = ""
    for item in (show(r) for r in results):
        if line and len(line) + len(item) + 6 > width:
            lines.append(line + ",")
            line = item
        else:
            line = f"{line}, {item}" if line else item
    return "\n".join(f"    {text}" for text in [*lines, line])


def report(results: Sequence[Result], index_url: str, required: bool, out: TextIO) -> int:
    """Print the summary and return the exit code."""
    results = sorted(results, key=lambda r: canonical(r.name))
    by: dict[str, list[Result]] = {}
    for r in results:
        by.setdefault(r.status, []).append(r)
    count = {s: len(by.get(s, [])) for s in (VULNERABLE, YANKED, CLEAN, BEHIND, AHEAD, NOT_ON_PYPI, UNREACHABLE)}

    def p(line: str) -> None:
        print(line, file=out)

    if results and count[UNREACHABLE] == len(results):
        p(f"audit: NO VULNERABILITY DATABASE REACHABLE: {index_url} gave no usable project JSON for any package")
        p(f"       (e.g. {results[0].problem}).")
        p("       The environment was NOT audited. Run .ci/audit where pypi.org is reachable,")
        p("       or set AUDIT_REQUIRED=1 to make this a failure.")
        return 2 if required else 0

    p(f"audit (fallback: PyPI latest-release advisories + yanked check, {index_url}): {len(results)} packages")
    p(f"  {count[CLEAN]} at their latest release with no advisories")
    p(f"  {count[VULNERABLE]} vulnerable at their latest release" + (":" if count[VULNERABLE] else ""))
    for r in by.get(VULNERABLE, []):
        yanked = f" (also yanked: {r.yanked_reason or 'no reason given'})" if r.yanked_reason is not None else ""
        p(f"    {r.name} {r.installed}{yanked}:")
        for a in r.advisories:
            p(f"      {a.describe()}")
    for r in (r for r in results if r.ignored):
        for a in r.ignored:
            p(f"  ignored (AUDIT_IGNORE_VULNS): {r.name} {r.installed}: {a.describe()}")
    p(f"  {count[YANKED]} yanked installed versions" + (":" if count[YANKED] else ""))
    for r in by.get(YANKED, []):
        p(f"    {r.name} {r.installed} (latest {r.latest}): yanked, reason: {r.yanked_reason or 'none given'}")
    behind = by.get(BEHIND, []) + by.get(AHEAD, [])
    if behind:
        p(
            f"  {len(behind)} NOT audited, not at their latest release (advisories for other releases are "
            "unreachable from here):"
        )
        p(_listing(behind, lambda r: f"{r.name} {r.installed} → {r.latest}"))
        flagged = [r for r in behind if r.advisories]
        for r in flagged:
            ids = ", ".join(a.id for a in r.advisories)
            p(f"    note: {r.name}'s latest release {r.latest} itself has advisories ({ids}); check {r.installed}")
    for status, label in ((NOT_ON_PYPI, "not on PyPI"), (UNREACHABLE, "unreachable (NOT audited)")):
        if by.get(status):
            p(f"  {count[status]} {label}:")
            p(_listing(by[status], lambda r: f"{r.name} {r.installed}"))
            if status == UNREACHABLE:
                p(f"    first problem: {by[status][0].problem}")

    failed = count[VULNERABLE] + count[YANKED]
    if failed:
        p(f"audit: FAILED: {count[VULNERABLE]} vulnerable, {count[YANKED]} yanked (upgrade or replace them)")
        return 1
    unaudited = len(behind) + count[UNREACHABLE]
    p(
        f"audit: passed: no advisory for the {count[CLEAN]} packages at their latest release, no yanked version"
        + (f"; {unaudited} packages were NOT audited for advisories (listed above)" if unaudited else "")
    )
    return 0


def main(argv: Sequence[str] | None = None, out: TextIO = sys.stdout) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--requirements",
        type=Path,
        default=os.environ.get("AUDIT_REQUIREMENTS") or None,
        help="name==version lines to audit instead of the installed environment (env AUDIT_REQUIREMENTS)",
    )
    parser.add_argument("--index-url", default=os.environ.get("AUDIT_INDEX_URL") or DEFAULT_INDEX)
    parser.add_argument("--skip", action="append", default=[], help="distribution to leave out (repeatable)")
    args = parser.parse_args(argv)
    required = os.environ.get("AUDIT_REQUIRED", "0") == "1"
    ignore = os.environ.get("AUDIT_IGNORE_VULNS", "").replace(",", " ").split()

    if args.requirements is not None:
        try:
            pins = read_requirements(args.requirements)
        except (OSError, ValueError, UnicodeDecodeError) as e:
            print(f"audit: cannot read the requirements file: {e}. Give one 'name==version' per line.", file=out)
            return 2
    else:
        own = project_name()
        pins = installed_distributions([*args.skip, *([own] if own else [])])
    skipped = {canonical(s) for s in args.skip}
    pins = [p for p in pins if canonical(p[0]) not in skipped]
    if not pins:
        print("audit: nothing to audit (no distributions given).", file=out)
        return 0
    return report(audit(pins, http_fetcher(args.index_url), ignore), args.index_url, required, out)


if __name__ == "__main__":
    sys.exit(main())
