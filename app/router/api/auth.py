"""API credentials as the Go router keeps them: ``.cookie`` (admin password) and bitcoind-style ``proxy.conf``.

``proxy.conf`` directives (spec §3.1): ``rpcauth=<user>:<saltHex>$<hex HMAC-SHA256(key=raw salt, msg=password)>``,
``rpcwhitelist=<user>:perm1,perm2`` (``*`` = every permission) and ``rpcwhitelistdefault=0|1``. A user with no
whitelist line may call everything when the default is 0; when it is 1 (or unset while some whitelist exists, as
bitcoind does) such a user may call nothing. ``admin`` always has ``*``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import logging
import os
import re
import secrets
import stat
import string
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from app.errors import ApiError, ConfigError
from app.paths import write_private_file

log = logging.getLogger(__name__)

ADMIN = "admin"
ALL = "*"
_ALPHANUMERIC = string.ascii_letters + string.digits
_USERNAME = re.compile(r"^[A-Za-z0-9_.\-]{1,64}$")
_PERM = re.compile(r"^(\*|[a-z0-9_]{1,64})$")


def random_password(length: int = 32) -> str:
    """``length`` random alphanumerics (the Go router's cookie password alphabet)."""
    return "".join(secrets.choice(_ALPHANUMERIC) for _ in range(length))


def password_hmac(salt: bytes, password: str) -> str:
    """hex(HMAC-SHA256(key=salt bytes, msg=password)): the digest half of an ``rpcauth`` line."""
    return hmac.new(salt, password.encode("utf-8"), hashlib.sha256).hexdigest()


def rpcauth_value(user: str, password: str, salt: bytes | None = None) -> str:
    """``<user>:<saltHex>$<digest>`` with a fresh 16-byte salt unless one is given."""
    salt = secrets.token_bytes(16) if salt is None else salt
    return f"{user}:{salt.hex()}${password_hmac(salt, password)}"


@dataclass(frozen=True)
class Credential:
    """One ``rpcauth`` entry: the salt and the expected digest (never the password)."""

    salt: bytes
    digest: str

    def matches(self, password: str) -> bool:
        """Whether ``password`` hashes to this entry's digest (constant-time compare)."""
        return hmac.compare_digest(password_hmac(self.salt, password), self.digest.lower())


@dataclass
class ProxyConf:
    """The parsed ``proxy.conf``: users, their whitelists and the default; unknown lines are kept verbatim."""

    users: dict[str, Credential] = field(default_factory=dict)
    whitelists: dict[str, frozenset[str]] = field(default_factory=dict)
    whitelist_default: bool | None = None
    other_lines: list[str] = field(default_factory=list)

    @classmethod
    def parse(cls, text: str, source: str) -> ProxyConf:
        """Parse ``text``; ConfigError names the first bad line and how to fix it."""
        conf = cls()
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.strip()
            where = f"{source} line {number}"
            if not line or line.startswith("#"):
                conf.other_lines.append(raw)
                continue
            key, eq, value = line.partition("=")
            key = key.strip()
            if not eq:
                raise ConfigError(f"{where}: expected key=value, e.g. rpcauth=<user>:<salt>$<hash>.")
            if key == "rpcauth":
                user, colon, rest = value.partition(":")
                salt_hex, dollar, digest = rest.partition("$")
                try:
                    salt = bytes.fromhex(salt_hex)
                    bytes.fromhex(digest)
                except ValueError:
                    salt = b""
                if not colon or not dollar or not user or not salt or len(digest) != 64:
                    raise ConfigError(f"{where}: rpcauth must be <user>:<saltHex>$<64 hex digest>.")
                conf.users[user] = Credential(salt, digest.lower())
            elif key == "rpcwhitelist":
                user, colon, perms = value.partition(":")
                if not colon or not user:
                    raise ConfigError(f"{where}: rpcwhitelist must be <user>:perm1,perm2 (or <user>:*).")
                names = frozenset(p.strip() for p in perms.split(",") if p.strip())
                conf.whitelists[user] = conf.whitelists.get(user, frozenset()) | names
            elif key == "rpcwhitelistdefault":
                if value.strip() not in ("0", "1"):
                    raise ConfigError(f"{where}: rpcwhitelistdefault must be 0 or 1.")
                conf.whitelist_default = value.strip() == "1"
            else:
                conf.other_lines.append(raw)
        return conf

    def render(self) -> str:
        """The file text: kept lines first, then users, whitelists and the default."""
        lines = [ln for ln in self.other_lines if ln.strip()]
        for user, cred in self.users.items():
            lines.append(f"rpcauth={user}:{cred.salt.hex()}${cred.digest}")
        for user, perms in self.whitelists.items():
            lines.append(f"rpcwhitelist={user}:{','.join(sorted(perms))}")
        if self.whitelist_default is not None:
            lines.append(f"rpcwhitelistdefault={int(self.whitelist_default)}")
        return "\n".join(lines) + "\n"

    def permissions(self, user: str) -> frozenset[str]:
        """What ``user`` may call: ``*`` for admin, its whitelist, or everything/nothing per the default."""
        if user == ADMIN:
            return frozenset({ALL})
        if user in self.whitelists:
            return self.whitelists[user]
        deny_unlisted = self.whitelist_default if self.whitelist_default is not None else bool(self.whitelists)
        return frozenset() if deny_unlisted else frozenset({ALL})


def _warn_if_shared(path: Path) -> None:
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return
    if os.name == "posix" and mode & 0o077:
        log.warning("%s has mode %o: it holds API credentials, run chmod 600 %s", path, mode, path)


def _read_cookie(path: Path) -> tuple[str, str]:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as e:
        raise ConfigError(f"Cannot read the API cookie file {path} ({e.strerror}).") from e
    user, colon, password = text.partition(":")
    if not colon or not user or not password:
        raise ConfigError(f"{path} must contain admin:<password>; delete it to have a new one generated.")
    return user, password


class AuthConfig:
    """The live credentials: checks Basic auth and permissions; adds and removes users in ``proxy.conf``.

    Build it with :meth:`load` (blocking file I/O: call through ``asyncio.to_thread`` on the loop).
    """

    def __init__(self, cookie_path: Path, conf_path: Path, conf: ProxyConf, admin_password: str) -> None:
        self.cookie_path = cookie_path
        self.conf_path = conf_path
        self._conf = conf
        self._admin_password = admin_password
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"AuthConfig(cookie={self.cookie_path}, conf={self.conf_path}, users={sorted(self._conf.users)})"

    @property
    def admin_password(self) -> str:
        """The admin password from ``.cookie`` (for the local UI and headless wallet setup; never log it)."""
        return self._admin_password

    @classmethod
    def load(cls, cookie_path: Path, conf_path: Path, cookie_content: str | None = None) -> AuthConfig:
        """Read ``.cookie`` and ``proxy.conf``, creating both (0600) when missing, and seed admin from the cookie.

        ``cookie_content`` (COOKIE_CONTENT) is the admin password, or ``admin:<password>``, used only when the
        cookie file does not exist yet; otherwise 32 random alphanumerics are generated.
        """
        if not cookie_path.exists():
            password = random_password()
            if cookie_content:
                user, colon, rest = cookie_content.strip().partition(":")
                password = rest if colon and user == ADMIN and rest else cookie_content.strip()
            write_private_file(cookie_path, f"{ADMIN}:{password}\n".encode())
            log.info("created the API cookie file %s", cookie_path)
        else:
            _warn_if_shared(cookie_path)
        user, password = _read_cookie(cookie_path)
        if user != ADMIN:
            raise ConfigError(f"{cookie_path} must start with admin:, found {user!r}.")
        if conf_path.exists():
            _warn_if_shared(conf_path)
            try:
                text = conf_path.read_text(encoding="utf-8")
            except OSError as e:
                raise ConfigError(f"Cannot read {conf_path} ({e.strerror}).") from e
            conf = ProxyConf.parse(text, str(conf_path))
        else:
            conf = ProxyConf(whitelist_default=False)
        existing = conf.users.get(ADMIN)
        changed = not conf_path.exists()
        if existing is None or not existing.matches(password):
            # The cookie is the source of truth for admin (upstream PRs #413/#414).
            salt = secrets.token_bytes(16)
            conf.users[ADMIN] = Credential(salt, password_hmac(salt, password))
            changed = True
        if conf.whitelists.get(ADMIN) != frozenset({ALL}):
            conf.whitelists[ADMIN] = frozenset({ALL})
            changed = True
        auth = cls(cookie_path, conf_path, conf, password)
        if changed:
            auth._save()
        return auth

    def _save(self) -> None:
        write_private_file(self.conf_path, self._conf.render().encode("utf-8"))  # a StorageError says why not

    # -- checks ------------------------------------------------------------------------------------------------
    def authenticate(self, authorization: str | None) -> str | None:
        """The user named by a valid ``Authorization: Basic`` header, else None."""
        if not authorization:
            return None
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "basic" or not token:
            return None
        try:
            decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return None
        user, colon, password = decoded.partition(":")
        if not colon:
            return None
        cred = self._conf.users.get(user)
        if cred is None:
            # Same work either way, so a wrong user name is not faster than a wrong password.
            Credential(b"\0" * 16, "0" * 64).matches(password)
            return None
        return user if cred.matches(password) else None

    def permissions(self, user: str) -> frozenset[str]:
        """The permission names ``user`` holds (``*`` = all)."""
        return self._conf.permissions(user)

    def allowed(self, user: str, permission: str) -> bool:
        """Whether ``user`` may call a route guarded by ``permission``."""
        perms = self.permissions(user)
        return ALL in perms or permission in perms

    def users(self) -> list[str]:
        """Every user in ``proxy.conf``."""
        return list(self._conf.users)

    # -- changes -----------------------------------------------------------------------------------------------
    def authorize_change(self, caller: str, target: str, perms: Iterable[str] = ()) -> None:
        """ApiError 403 unless ``caller`` may create/update/remove ``target`` with ``perms``.

        A caller without ``*`` may not touch admin, grant ``*``, or grant a permission it does not hold.
        """
        own = self.permissions(caller)
        if ALL in own:
            return
        wanted = set(perms)
        if target == ADMIN or ALL in wanted or not wanted <= own:
            raise ApiError("method not allowed: you may only grant permissions you hold, never *, "
                           "and may not change admin", 403)

    def add_user(self, user: str, password: str, perms: Iterable[str]) -> None:
        """Create or update ``user`` with ``password`` and exactly ``perms``; admin also rewrites ``.cookie``."""
        perm_set = frozenset(perms)
        check_username(user)
        if not password:
            raise ApiError("password must not be empty")
        bad = sorted(p for p in perm_set if not _PERM.match(p))
        if bad:
            raise ApiError(f"invalid permission names {bad}: use names such as chat, get_balance or *")
        with self._lock:
            salt = secrets.token_bytes(16)
            self._conf.users[user] = Credential(salt, password_hmac(salt, password))
            self._conf.whitelists[user] = frozenset({ALL}) if user == ADMIN else perm_set
            self._save()
            if user == ADMIN:
                write_private_file(self.cookie_path, f"{ADMIN}:{password}\n".encode())
                self._admin_password = password

    def remove_user(self, user: str) -> bool:
        """Remove ``user`` (never admin); False if it did not exist."""
        if user == ADMIN:
            raise ApiError("the admin user cannot be removed; change its password with POST /auth/users", 400)
        with self._lock:
            existed = self._conf.users.pop(user, None) is not None
            self._conf.whitelists.pop(user, None)
            if existed:
                self._save()
        return existed


def check_username(user: str) -> str:
    """``user`` if it is 1–64 letters, digits, ``_ . -``; else ApiError 400."""
    if not isinstance(user, str) or not _USERNAME.match(user):
        raise ApiError("username must be 1-64 letters, digits, '_', '.' or '-'")
    return user
