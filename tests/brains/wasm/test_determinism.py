"""wasm brains are deterministic: their golden state hashes (tests/golden, made by
scripts/regen_golden.py) come out the same with two threads and in a fresh process, in the
sandbox and in the hex world."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
GOLDEN = ROOT / "tests" / "golden"


def _regen():
    spec = importlib.util.spec_from_file_location("regen_golden",
                                                  ROOT / "scripts" / "regen_golden.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _case(name: str) -> dict:
    cases = json.loads((GOLDEN / name).read_text())
    return next(c for c in cases if c.get("brain") == "wasm")


def test_the_sandbox_with_wasm_brains_gives_its_hashes_with_two_threads():
    case = _case("sandbox_state_hashes.json")
    assert _regen().sandbox_hashes(case, threads=2) == case["hashes"]


def test_the_hex_world_with_wasm_brains_gives_its_hashes_in_a_fresh_process():
    case = _case("hex_state_hashes.json")
    code = ("import json,importlib.util as u;"
            f"s=u.spec_from_file_location('g',{str(ROOT / 'scripts' / 'regen_golden.py')!r});"
            "m=u.module_from_spec(s);s.loader.exec_module(m);"
            f"print(json.dumps(m.hex_hashes({case!r}, threads=2)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == case["hashes"]
