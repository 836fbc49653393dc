"""Salted fingerprints of the private keys this process holds, so log redaction can hide exactly those keys."""

from __future__ import annotations

import hashlib
import os
import threading

# A fresh salt per process: the fingerprints in memory say nothing about a key to anyone who reads them.
_SALT = os.urandom(16)
_marks: set[bytes] = set()
_lock = threading.Lock()


def _fingerprint(secret: bytes) -> bytes:
    return hashlib.blake2b(secret, digest_size=16, key=_SALT).digest()


def remember(secret: bytes) -> None:
    """Mark ``secret`` (a 32-byte private key) as one whose hex must never appear in a log line."""
    mark = _fingerprint(secret)
    with _lock:
        _marks.add(mark)


def is_secret(candidate: bytes) -> bool:
    """Whether ``candidate`` is a key passed to :func:`remember` in this process."""
    if not _marks:
        return False
    return _fingerprint(candidate) in _marks
