"""Test-session set-up that must happen before numba is imported.

numba's on-disk cache has two traps for a test run:
- a cached kernel holds its own copies of the kernels it calls, and numba checks only the
  caller's source file, so after an edit to a called kernel the old machine code can run;
- two processes compiling different versions of one function at once can both claim the
  same entry of the cache index, which then points at the other's machine code (a crash).
So tests compile into `.numba-cache/<digest of the kernels' source>/<xdist worker>`: an edit
to any file kernels can see starts a fresh cache, and no two workers share one. Kernels see
only `core`, `brains` and `worlds` (the layers below them import nothing above) and their own
module, so the digest covers those packages and every other module that uses numba; an edit
to the server, the command line or a run keeps the compiled kernels. Processes a test starts
inherit the directory. The controller process removes caches of older sources.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

_ROOT = Path(__file__).resolve().parent.parent


_KERNEL_LAYERS = ("core", "brains", "worlds")


def _source_digest() -> str:
    h = hashlib.sha256()
    package = _ROOT / "src" / "primordia"
    for path in sorted(package.rglob("*.py")):
        text = path.read_bytes()
        if path.relative_to(package).parts[0] in _KERNEL_LAYERS or b"numba" in text:
            h.update(str(path.relative_to(_ROOT)).encode() + b"\0" + text)
    return h.hexdigest()[:16]


_base = Path(os.environ.get("PRIMORDIA_TEST_NUMBA_CACHE", str(_ROOT / ".numba-cache")))
_digest = _source_digest()
_worker = os.environ.get("PYTEST_XDIST_WORKER")
os.environ["NUMBA_CACHE_DIR"] = str(_base / _digest / (_worker or "main"))
if _worker is None and _base.is_dir():
    for old in _base.iterdir():
        if old.is_dir() and old.name != _digest:
            shutil.rmtree(old, ignore_errors=True)


# ---- hypothesis: one profile for CI, one for working locally --------------------------------
# Tests pin their example counts where the count is the point (a property over 1,000 genomes);
# the profiles set what they leave open. CI prints the blob that reproduces a failure; locally
# the example database remembers failures between runs. HYPOTHESIS_PROFILE picks another.
from hypothesis import HealthCheck, settings  # noqa: E402

settings.register_profile("ci", deadline=None, print_blob=True, database=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("dev", deadline=None, max_examples=50,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile(os.environ.get(
    "HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI", "").lower() == "true" else "dev"))


# ---- the quick run -----------------------------------------------------------------------------
# tests/slow_tests.txt lists the tests a full run measured over a few seconds (written by
# scripts/slow_tests.py); they are marked slow, so `scripts/test.sh -m "not slow"` leaves them
# out. A test not in the list is quick until the list is written again.
_SLOW = frozenset(
    line.strip() for line in (_ROOT / "tests" / "slow_tests.txt").read_text().splitlines()
    if line.strip() and not line.startswith("#"))


def pytest_collection_modifyitems(config, items):  # noqa: ARG001 (pytest's signature)
    import pytest

    for item in items:
        if item.nodeid in _SLOW:
            item.add_marker(pytest.mark.slow)
