"""Golden results of the ecology world: state hashes at given ticks for fixed seeds, reproduced
in this process, with two threads and in a fresh process. Regenerate only with
``scripts/regen_golden.py ecology``, when a rule change is meant to change them."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CASES = json.loads((ROOT / "tests" / "golden" / "ecology_state_hashes.json").read_text())


def _regen():
    spec = importlib.util.spec_from_file_location("regen_golden",
                                                  ROOT / "scripts" / "regen_golden.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['brain']}-seed{c['seed']}")
def test_ecology_matches_its_golden_state_hashes(case):
    assert _regen().ecology_hashes(case) == case["hashes"]


@pytest.mark.parametrize("case", CASES[:2], ids=lambda c: c["brain"])
def test_two_threads_give_the_same_hashes(case):
    assert _regen().ecology_hashes(case, threads=2) == case["hashes"]


def test_a_fresh_process_gives_the_same_hashes():
    case = CASES[1]
    code = ("import json,importlib.util as u;"
            f"s=u.spec_from_file_location('g',{str(ROOT / 'scripts' / 'regen_golden.py')!r});"
            "m=u.module_from_spec(s);s.loader.exec_module(m);"
            f"print(json.dumps(m.ecology_hashes({case!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == case["hashes"]
