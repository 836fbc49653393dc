"""Keeps None, True and False alive under PySide6 6.12 on CPython 3.11, which drops a reference to them per call.

Measured here: every call of a void C++ method through PySide6 6.12 (``QLabel.setText``, ``QWidget.setVisible``,
``QAbstractButton.click``…) lowers ``sys.getrefcount(None)`` by one for good. CPython 3.11 starts with only a few
thousand references to None, so a GUI making a few thousand Qt calls aborts with "Fatal Python error:
deallocating None" (seen after ~30 dashboard refreshes). CPython 3.12 made these objects immortal (PEP 683), which
is what :func:`pin_singletons` imitates: it adds 2**40 references once, far more than a process can ever release.
"""

from __future__ import annotations

import ctypes
import sys

PIN = 1 << 40
_pinned = False


def pin_singletons() -> bool:
    """Add PIN references to None, True and False once per process; True if it did (False on 3.12+ or repeat)."""
    global _pinned
    if _pinned or sys.version_info >= (3, 12):
        return False
    for singleton in (None, True, False):
        # ob_refcnt is the first field of every PyObject (a Py_ssize_t) in CPython 3.11.
        ctypes.c_ssize_t.from_address(id(singleton)).value += PIN
    _pinned = True
    return True
