"""Wallet test fixtures: an in-memory OS keychain, cheap scrypt, and a manager wired to both."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest

from app.wallet.manager import WalletManager
from wallet.support import MemoryKeyring
from wallet.vectors import FAST_SCRYPT


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    """Install an in-memory keyring as the process-wide backend for one test."""
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def manager(memory_keyring: MemoryKeyring, isolated_data_dir: Path) -> WalletManager:
    """A manager on the in-memory keychain with cheap scrypt and no WALLET_PRIVATE_KEY."""
    return WalletManager(isolated_data_dir, scrypt=FAST_SCRYPT, environ={})
