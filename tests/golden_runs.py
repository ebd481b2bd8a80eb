"""The golden files under tests/golden/ and the script that writes them
(scripts/regen_golden.py), as the worlds' golden tests use them: the recorded cases, the
script's functions run here, and run in a fresh Python process."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
GOLDEN = ROOT / "tests" / "golden"
SCRIPT = ROOT / "scripts" / "regen_golden.py"


def cases(name: str) -> Any:
    """The JSON of ``tests/golden/<name>``."""
    return json.loads((GOLDEN / name).read_text())


def regen() -> Any:
    """scripts/regen_golden.py as a module (its functions make what the golden files hold)."""
    spec = importlib.util.spec_from_file_location("regen_golden", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def in_fresh_process(function: str, case: Any) -> Any:
    """``regen().<function>(case)`` computed by a new Python process, as JSON data."""
    code = ("import json,importlib.util as u;"
            f"s=u.spec_from_file_location('g',{str(SCRIPT)!r});"
            "m=u.module_from_spec(s);s.loader.exec_module(m);"
            f"print(json.dumps(m.{function}({case!r})))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])
