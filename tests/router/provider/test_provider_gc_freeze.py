"""The provider's startup heap leaves the cyclic collector once per process (shorter full collections)."""

from __future__ import annotations

import gc

import pytest

from app.router.provider import node


def test_the_startup_heap_is_frozen_once_and_later_objects_stay_collectable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(node, "_heap_frozen", False)
    gc.unfreeze()
    try:
        node.freeze_startup_heap()
        frozen = gc.get_freeze_count()
        later = [[] for _ in range(1000)]  # lists are tracked by the collector
        node.freeze_startup_heap()
        assert frozen > 1000  # every module, class and function alive at start-up
        assert gc.get_freeze_count() == frozen
        assert later
    finally:
        gc.unfreeze()
