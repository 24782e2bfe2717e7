#!/usr/bin/env bash
# Quick start, command 1: the register on its embedded default (SQLite, development keys, demo data).
set -euo pipefail
cd "$(dirname "$0")/.."
REGISTER_EXTRAS= bash scripts/bootstrap.sh  # the base install: no database driver or search client
exec .venv/bin/register demo "$@"
