#!/usr/bin/env bash
# Prints the path of a `temporal` CLI (v1.5.1: Server 1.29.1, Web UI 2.42.1), building it from source
# into a versioned cache outside the repo when neither PATH nor the cache has one. Progress goes to
# stderr so callers can capture stdout: TEMPORAL_BIN=$(scripts/ensure-temporal.sh).
set -euo pipefail

version="1.5.1"
cache_dir="${MM_TEMPORAL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mm-onboarding/temporal-cli-$version}"
cached="$cache_dir/temporal"

say() { echo "[temporal] $*" >&2; }

# Any release works on PATH only when it is the pinned one: the tests rely on its server's behaviour.
if on_path=$(command -v temporal 2>/dev/null) && "$on_path" --version 2>/dev/null | grep -q "$version"; then
  echo "$on_path"; exit 0
fi
if [ -x "$cached" ]; then
  echo "$cached"; exit 0
fi

go_bin=$(command -v go || true)
[ -n "$go_bin" ] || { [ -x /usr/local/go/bin/go ] && go_bin=/usr/local/go/bin/go; }
if [ -z "$go_bin" ]; then
  say "no temporal CLI $version on PATH or in $cache_dir, and no Go toolchain to build one."
  say "Install Go (https://go.dev/doc/install) and re-run, or put temporal $version on PATH."
  exit 1
fi

say "building temporal CLI $version from source into $cache_dir (first run only, ~4 min)..."
mkdir -p "$cache_dir"
started=$(date +%s)
# Later CLI tags carry a `replace` directive that `go install pkg@version` refuses; 1.5.1 does not.
GOBIN="$cache_dir" GOFLAGS="-mod=mod" "$go_bin" install \
  -ldflags "-X github.com/temporalio/cli/temporalcli.Version=$version" \
  "github.com/temporalio/cli/cmd/temporal@v$version" >&2
say "built in $(( $(date +%s) - started ))s: $("$cached" --version)"
echo "$cached"
