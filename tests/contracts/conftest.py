"""The §11 fixture: the whole marketplace deployed once on eth-tester, reverted to a snapshot before each test."""

from __future__ import annotations

import pytest

from .deploy import Deployment, deploy_marketplace
from .env import Env, Market


@pytest.fixture(scope="session")
def deployment() -> Deployment:
    return deploy_marketplace()


@pytest.fixture
def env(deployment: Deployment) -> Env:
    """A freshly deployed, initialised marketplace; the next transaction is mined at payoutStart + 10 days."""
    deployment.env.tester.revert_to_snapshot(deployment.base_snapshot)
    return deployment.env


@pytest.fixture
def market(deployment: Deployment) -> Market:
    """`env` plus PROVIDER registered (0.2 MOR), a model (100 MOR) and PROVIDER's bid on it (1e14 wei/s)."""
    deployment.env.tester.revert_to_snapshot(deployment.market_snapshot)
    return deployment.market
