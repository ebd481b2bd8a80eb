#!/usr/bin/env python
"""Write tests/slow_tests.txt -- the tests a quick run (``scripts/test.sh -m "not slow"``)
leaves out -- from the durations a full run reported:

    scripts/test.sh --durations=0 | tee full.log
    .venv/bin/python scripts/slow_tests.py full.log [--over 3]

A test is slow when its setup, call and teardown took more than ``--over`` seconds together
(on the machine of that run: list the machine in the commit that changes the file)."""

from __future__ import annotations

import argparse
import collections
import re
from pathlib import Path

LIST = Path(__file__).resolve().parent.parent / "tests" / "slow_tests.txt"
LINE = re.compile(r"^([\d.]+)s (?:call|setup|teardown)\s+(\S+::\S+)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("log", type=Path, help="a pytest log with --durations=0")
    ap.add_argument("--over", type=float, default=3.0, help="seconds (3)")
    args = ap.parse_args()
    seconds: collections.Counter[str] = collections.Counter()
    for line in args.log.read_text().splitlines():
        m = LINE.match(line)
        if m:
            seconds[m.group(2)] += float(m.group(1))
    if not seconds:
        raise SystemExit(f"{args.log}: no durations (run pytest with --durations=0)")
    slow = sorted(t for t, s in seconds.items() if s > args.over)
    LIST.write_text(f"# tests over {args.over:g} s in a full run; scripts/slow_tests.py "
                    "writes this file\n" + "".join(t + "\n" for t in slow))
    kept = sum(s for t, s in seconds.items() if t not in slow)
    print(f"{len(slow)} slow tests ({sum(seconds.values()) - kept:.0f} s) -> {LIST}; "
          f"the quick run keeps {len(seconds) - len(slow)} timed tests ({kept:.0f} s)")


if __name__ == "__main__":
    main()
