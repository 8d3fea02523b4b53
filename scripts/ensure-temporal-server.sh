#!/usr/bin/env bash
# Prints the directory holding a Temporal server (`temporal-server`) and its SQL schema tool
# (`temporal-sql-tool`) v1.32.2, building both from source into a versioned cache outside the repo
# when the cache has none (the same server the dev server embeds, run as a real cluster member).
# Also prints nothing else on stdout: SERVER_DIR=$(scripts/ensure-temporal-server.sh).
set -euo pipefail

version="1.32.2"
cache_dir="${MM_TEMPORAL_SERVER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mm-onboarding/temporal-server-$version}"

say() { echo "[temporal-server] $*" >&2; }

if [ -x "$cache_dir/temporal-server" ] && [ -x "$cache_dir/temporal-sql-tool" ]; then
  echo "$cache_dir"; exit 0
fi

go_bin=$(command -v go || true)
[ -n "$go_bin" ] || { [ -x /usr/local/go/bin/go ] && go_bin=/usr/local/go/bin/go; }
if [ -z "$go_bin" ]; then
  say "no Temporal server $version in $cache_dir and no Go toolchain to build one."
  say "Install Go (https://go.dev/doc/install) and re-run."
  exit 1
fi

# One build at a time: a second caller waits for the first instead of compiling the same tree twice.
mkdir -p "$cache_dir"
exec 9>"$cache_dir/.build.lock"
flock 9
if [ -x "$cache_dir/temporal-server" ] && [ -x "$cache_dir/temporal-sql-tool" ]; then
  echo "$cache_dir"; exit 0
fi

say "building Temporal server $version and its SQL tool from source into $cache_dir (first run only, several minutes)..."
started=$(date +%s)
staging="$cache_dir/.staging"
rm -rf "$staging"; mkdir -p "$staging"
# Server 1.32.2's go.mod asks for Go >= 1.26.10: GOTOOLCHAIN=auto lets an older local Go (>= 1.21)
# fetch that toolchain through the module proxy, as `go` does by default when installed from go.dev.
GOBIN="$staging" GOFLAGS="-mod=mod" GOTOOLCHAIN=auto "$go_bin" install \
  "go.temporal.io/server/cmd/server@v$version" \
  "go.temporal.io/server/cmd/tools/sql@v$version" >&2
# Installed names are the package directories; give them the names Temporal's images use.
mv "$staging/sql" "$cache_dir/temporal-sql-tool"
mv "$staging/server" "$cache_dir/temporal-server"
rm -rf "$staging"
say "built in $(( $(date +%s) - started ))s"
echo "$cache_dir"
