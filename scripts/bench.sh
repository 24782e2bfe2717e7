#!/usr/bin/env bash
# The benchmark suite (docs/benchmarks.md): a generated register on a real PostgreSQL and a real Elasticsearch node,
# both started here, every figure beside its baseline. On demand, not in CI (CI runs a tiny size in the tests).
set -euo pipefail
cd "$(dirname "$0")/.."
REGISTER_PREREQUISITES_ONLY=1 bash scripts/test.sh
exec .venv/bin/python benchmarks/run.py --report "$@"
