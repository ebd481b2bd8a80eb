"""Golden state hashes: the sandbox (micro-PSIL brains, and wasm brains) must reproduce them
exactly, in this process, with two threads, and in a fresh process. Regenerate only with scripts/regen_golden.py."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CASES = json.loads((ROOT / "tests" / "golden" / "sandbox_state_hashes.json").read_text())


def _regen():
    spec = importlib.util.spec_from_file_location("regen_golden",
                                                  ROOT / "scripts" / "regen_golden.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c['npcs']}npcs")
def test_sandbox_matches_its_golden_state_hashes(case):
    assert _regen().sandbox_hashes(case) == case["hashes"]


@pytest.mark.parametrize("case", CASES[1:2] + [c for c in CASES if c.get("brain") == "wasm"],
                         ids=lambda c: f"{c['npcs']}npcs-{c.get('brain', 'psil')}")
def test_two_threads_give_the_same_hashes(case):
    assert _regen().sandbox_hashes(case, threads=2) == case["hashes"]


def test_a_fresh_process_gives_the_same_hashes():
    case = CASES[0]
    code = ("import json,sys,importlib.util as u;"
            f"s=u.spec_from_file_location('g',{str(ROOT / 'scripts' / 'regen_golden.py')!r});"
            "m=u.module_from_spec(s);s.loader.exec_module(m);"
            f"print(json.dumps(m.sandbox_hashes({case!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == case["hashes"]
