"""Test-session set-up that must happen before numba is imported.

numba's on-disk cache numbers each function's compiled versions in an index file; two
processes compiling different versions of one function at the same moment can both claim
number 1, and the index can then point at the other's machine code (a crash, not a wrong
answer). Each pytest-xdist worker therefore keeps its own cache directory; processes a test
starts inherit it.
"""

from __future__ import annotations

import os
from pathlib import Path

_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _worker:
    _base = os.environ.get("PRIMORDIA_TEST_NUMBA_CACHE",
                           str(Path(__file__).resolve().parent.parent / ".numba-cache"))
    os.environ["NUMBA_CACHE_DIR"] = str(Path(_base) / _worker)
