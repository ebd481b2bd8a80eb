"""Optional tools some tests need (a browser, a system package): without them a test skips on
a developer's machine, but fails under CI=true, where a missing tool means a broken set-up
rather than a choice."""

from __future__ import annotations

import os

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() == "true"


def missing(what: str) -> None:
    """Skip (or, under CI=true, fail) the calling test because ``what`` is not available."""
    if in_ci():
        pytest.fail(f"{what} is missing, and CI=true requires it", pytrace=False)
    pytest.skip(f"{what} is missing")
