#!/usr/bin/env bash
# Creates .venv (Python 3.11), installs the register with the extras asked for (REGISTER_EXTRAS, comma-separated;
# empty: the base install, which is all the embedded default needs), and builds the web assets from the npm
# registry (package-lock.json, `npm ci`). Idempotent: reinstalls only when pyproject.toml or package-lock.json changed
# or an extra is asked for that is not installed yet.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-}
if [ -z "$PY" ]; then
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 && "$candidate" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)'; then
      PY=$candidate; break
    fi
  done
fi
if [ -z "$PY" ]; then
  echo "bootstrap: Python 3.11 is required (set PYTHON=/path/to/python3.11)" >&2
  exit 1
fi

EXTRAS=${REGISTER_EXTRAS-postgres,elasticsearch,tracing,dev}
if [ ! -x .venv/bin/python ]; then
  echo "bootstrap: creating .venv with $($PY --version)"
  "$PY" -m venv .venv
fi
# The stamp names the extras installed for this pyproject.toml; a request for a subset of them installs nothing.
hash=$(sha256sum pyproject.toml | cut -c1-16)
installed=""
for stamp in .venv/.installed-"$hash"-*; do
  [ -e "$stamp" ] && installed=${stamp#.venv/.installed-"$hash"-}
done
needed=0
[ -e ".venv/.installed-$hash-$installed" ] || needed=1
for extra in ${EXTRAS//,/ }; do
  case ",${installed//_/,}," in *",$extra,"*) ;; *) needed=1 ;; esac
done
if [ "$needed" = 1 ]; then
  all=$(printf '%s\n' ${installed//_/ } ${EXTRAS//,/ } | sort -u | paste -sd, -)
  echo "bootstrap: installing register${all:+[$all]} into .venv"
  .venv/bin/python -m pip install --quiet --upgrade pip
  .venv/bin/python -m pip install --quiet -e ".${all:+[$all]}"
  rm -f .venv/.installed-*
  touch ".venv/.installed-$hash-${all//,/_}"
fi

# Web assets: GOV.UK and MoJ Frontend, Swagger UI and ReDoc, from the npm registry, served by the register itself.
if ! command -v npm >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing Debian's Node.js and npm for the web assets"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
  else
    echo "bootstrap: npm (Node.js) is needed to install the web assets; install Debian's 'npm' package" >&2
    exit 1
  fi
fi
lock=node_modules/.register-lock-$(sha256sum package-lock.json | cut -c1-16)
if [ ! -f "$lock" ]; then
  echo "bootstrap: installing the web assets (npm ci)"
  SCARF_ANALYTICS=false npm ci --no-audit --no-fund --ignore-scripts --loglevel=error
  touch "$lock"
fi
.venv/bin/python -m register.web.assets build >/dev/null
