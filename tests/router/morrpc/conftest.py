"""Fixtures for the MOR-RPC codec tests: throwaway consumer and provider wallets."""

from __future__ import annotations

import pytest
from morrpc_keys import CONSUMER_KEY, PROVIDER_KEY

from app.wallet.signer import KeySigner


@pytest.fixture
def consumer() -> KeySigner:
    return KeySigner.from_hex(CONSUMER_KEY)


@pytest.fixture
def provider() -> KeySigner:
    return KeySigner.from_hex(PROVIDER_KEY)
