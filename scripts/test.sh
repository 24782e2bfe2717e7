#!/usr/bin/env bash
# Quick start, command 2: the whole test suite. The suite itself starts a throwaway
# PostgreSQL server (deploy/local/postgres.py); this script makes sure the server's
# binaries are installed and that a run which collects no test fails.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test: installing Debian's PostgreSQL server"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
  else
    echo "test: PostgreSQL server binaries (initdb, pg_ctl) not found; install Debian's 'postgresql' package" >&2
    exit 1
  fi
fi

# The suite also starts a real Elasticsearch node (deploy/local/esnode.py) and a real Keycloak (deploy/local/keycloak.py),
# both fetched from Maven Central: they need Maven and a JDK (17 or newer; Keycloak 26 runs on 17, 21 or 25). Both are
# on this kind of machine; install Debian's if they are missing.
if ! command -v mvn >/dev/null 2>&1 || ! ls /usr/lib/jvm/*/bin/java >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test: installing Maven and OpenJDK 17 for the Elasticsearch and Keycloak test servers"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq maven openjdk-17-jdk-headless >/dev/null
  else
    echo "test: Maven and a JDK (17+) are needed to run the Elasticsearch and Keycloak test servers" >&2
    exit 1
  fi
fi

if ! command -v curl >/dev/null 2>&1; then  # the README's curl session is run as a test
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq curl >/dev/null
  else
    echo "test: curl not found; install it" >&2
    exit 1
  fi
fi

# The browser tests (tests/browser) drive Debian's Chromium with Playwright (Playwright's own browser download does
# not work here).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "test: installing Debian's Chromium for the browser tests"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "test: Chromium (/usr/bin/chromium) is needed for the browser tests; install Debian's 'chromium' package" >&2
    exit 1
  fi
fi

bash scripts/bootstrap.sh
if [ "${REGISTER_PREREQUISITES_ONLY:-}" = 1 ]; then exit 0; fi  # scripts/bench.sh needs the same servers
set +e
.venv/bin/python -m pytest "$@"
rc=$?
set -e
if [ "$rc" = 5 ]; then
  echo "test: pytest collected no tests; that is a failure" >&2
  exit 1
fi
exit "$rc"
