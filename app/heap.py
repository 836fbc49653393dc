"""Freezes the start-up heap out of the cyclic garbage collector, once per process (shorter full collections)."""

from __future__ import annotations

import gc

_heap_frozen = False


def freeze_startup_heap(*, collect_first: bool = False) -> bool:
    """Move everything alive now out of the collector's generations (``gc.freeze``); False if already done.

    What exists once a node or the main window is up (imported modules, config, the chain client, the widgets)
    lives as long as the process; frozen, it is no longer walked by every full collection, which then only sees
    what serving and refreshing allocate. A gen-2 pass over the start-up heap stalled the provider's loop for
    0.27-0.36 s in the 100-session benchmark and the GUI thread for 55-83 ms. ``collect_first`` collects before
    freezing so that start-up garbage is freed rather than pinned. Once only: a later freeze would also pin
    whatever garbage cycles exist by then, and the first caller's heap is already frozen.
    """
    global _heap_frozen
    if _heap_frozen:
        return False
    _heap_frozen = True
    if collect_first:
        gc.collect()
    gc.freeze()
    return True
