#!/usr/bin/env bash
# Quickstart 1: set everything up, then run the main job: an NPC sandbox of 200 micro-PSIL
# brains for 10,000 ticks (about 10 s), written to runs/quickstart. Extra flags are passed on.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
exec .venv/bin/primordia run sandbox --npcs 200 --ticks 10000 --seed 42 --out runs/quickstart "$@"
