"""Shared fixtures for the micro-PSIL tests."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

VECTORS = Path(__file__).resolve().parents[2] / "conformance" / "psil" / "vm-vectors.jsonl.gz"


@pytest.fixture(scope="session")
def conformance_cases() -> list[dict]:
    """The 10,900 thinks recorded from the reference sandbox's VM (oisee/psil)."""
    with gzip.open(VECTORS, "rt") as f:
        return [json.loads(line) for line in f]
