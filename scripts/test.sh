#!/usr/bin/env bash
# Quickstart 2: set everything up, then run the whole test suite (pass pytest options through:
# -m "not slow" for the quick run, README "Quickstart").
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-2}" --durations=25 "$@"
