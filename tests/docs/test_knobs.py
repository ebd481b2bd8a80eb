"""The knobs tables in the docs are the config models' fields: a default or a bound changed
in code and not in the docs fails here (scripts/knobs_table.py prints the table to paste)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def knobs():
    path = ROOT / "scripts" / "knobs_table.py"
    spec = importlib.util.spec_from_file_location("knobs_table", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("world", ["ecology"])
def test_the_docs_hold_the_knobs_table_of_the_code(world):
    table = knobs().world_table(world)
    doc = (ROOT / "docs" / "worlds" / f"{world}.md").read_text()
    assert table in doc, (f"docs/worlds/{world}.md: its knobs table differs from the code; "
                          f"paste the output of scripts/knobs_table.py {world}")
    assert "| `min_organisms` | 200 |" in table and "| `seed`" not in table
