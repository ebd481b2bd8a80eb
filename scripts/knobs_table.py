"""Print a world config's knobs as the markdown table its docs hold: every field with its
default, bounds and description, read from the pydantic model, so the docs cannot drift
from the code (tests/docs/test_knobs.py compares them).

    .venv/bin/python scripts/knobs_table.py ecology      # the table in docs/worlds/ecology.md
"""

from __future__ import annotations

import sys
from typing import Any

from annotated_types import Ge, Gt, Le, Lt

WORLDS = {"ecology": ("primordia.worlds.ecology.config", "EcologyConfig")}
SKIP = ("brain", "seed", "ticks")
"""Fields every world config has (the brain table, the seed, the run length), not the
world's own knobs."""


def _number(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:g}"
    if isinstance(v, int) and abs(v) >= 10_000:
        return f"{v:,}"
    return str(v)


def _bounds(field: Any) -> str:
    lo = hi = ""
    for m in field.metadata:
        if isinstance(m, Ge):
            lo = _number(m.ge)
        elif isinstance(m, Gt):
            lo = f"> {_number(m.gt)}"
        elif isinstance(m, Le):
            hi = _number(m.le)
        elif isinstance(m, Lt):
            hi = f"< {_number(m.lt)}"
    if lo and hi:
        return f"{lo} .. {hi}" if not hi.startswith("<") else f"{lo}, {hi}"
    return lo or hi


def table(config_class: type) -> str:
    """The markdown table of ``config_class``'s own fields, in declaration order."""
    rows = ["| knob | default | range | meaning |", "|---|---:|---|---|"]
    for name, field in config_class.model_fields.items():
        if name in SKIP:
            continue
        rows.append(f"| `{name}` | {_number(field.default)} | {_bounds(field)} | "
                    f"{field.description or ''} |")
    return "\n".join(rows)


def world_table(world: str) -> str:
    import importlib
    module, name = WORLDS[world]
    return table(getattr(importlib.import_module(module), name))


if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in WORLDS:
        sys.exit(f"usage: knobs_table.py {{{'|'.join(WORLDS)}}}")
    print(world_table(sys.argv[1]))
