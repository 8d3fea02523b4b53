#!/usr/bin/env bash
# Prints the bin directory of a PostgreSQL server (initdb, pg_ctl, postgres), installing Debian's
# `postgresql` package when none is there. Progress goes to stderr: PG_BIN=$(scripts/ensure-postgres.sh).
set -euo pipefail

find_bin() { ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1; }

bin=$(find_bin || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    echo "[postgres] no PostgreSQL server found; install Debian's postgresql package (apt-get install postgresql)" >&2
    exit 1
  fi
  echo "[postgres] installing Debian's postgresql package..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y --no-install-recommends postgresql >&2
  bin=$(find_bin)
fi
echo "$bin"
