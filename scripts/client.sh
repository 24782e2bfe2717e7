#!/usr/bin/env bash
# `make client`: the register's Python client, generated from its OpenAPI document with openapi-python-client
# (docs/api.md, "A generated Python client"). Writes dist/openapi.json and dist/register-client/, a package
# to `pip install dist/register-client`. The test suite generates the same client and calls the running
# register with it (tests/api/test_api_conventions.py).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh >/dev/null
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
export REGISTER_VAR_DIR="$work" REGISTER_DATABASE_URL="sqlite:///$work/register.db"
.venv/bin/register db upgrade >/dev/null
mkdir -p dist
.venv/bin/register openapi > dist/openapi.json
printf 'post_hooks: []\nproject_name_override: register-client\npackage_name_override: register_client\n' > "$work/client.yaml"
rm -rf dist/register-client
.venv/bin/openapi-python-client generate --path dist/openapi.json --meta setup --config "$work/client.yaml" \
  --output-path dist/register-client
echo "client: dist/register-client (pip install dist/register-client); document: dist/openapi.json"
