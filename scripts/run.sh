#!/usr/bin/env bash
# Quickstart 1: set everything up, then run the main job (for now the micro-PSIL demo).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/primordia demo "$@"
