#!/usr/bin/env bash
# Quickstart 2: set everything up, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/python -m pytest -n "${PYTEST_WORKERS:-2}" --durations=25 "$@"
