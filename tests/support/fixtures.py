"""Pytest fixtures over the helpers in tests/support (enable with ``pytest_plugins``)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from tests.support.openai_backend import Behaviour, OpenAIBackendServer


@pytest.fixture
async def openai_backend() -> AsyncIterator[OpenAIBackendServer]:
    """A running OpenAI-shaped test backend with default behaviour; set ``.behaviour`` to script it."""
    async with OpenAIBackendServer(Behaviour()) as server:
        yield server
