#!/usr/bin/env bash
# Prints the path of a Jaeger v1.75.0 binary (`cmd/jaeger`, the OpenTelemetry-collector based Jaeger
# with in-memory storage, an OTLP receiver and the query API), building it from the Go module proxy
# into a versioned cache outside the repo when the cache has none. Used by the traces test
# (test/traces/). Prints nothing else on stdout: JAEGER=$(scripts/ensure-jaeger.sh).
set -euo pipefail

version="1.75.0"
cache_dir="${MM_JAEGER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mm-onboarding/jaeger-$version}"
binary="$cache_dir/jaeger"

say() { echo "[jaeger] $*" >&2; }

if [ -x "$binary" ]; then echo "$binary"; exit 0; fi

go_bin=$(command -v go || true)
[ -n "$go_bin" ] || { [ -x /usr/local/go/bin/go ] && go_bin=/usr/local/go/bin/go; }
if [ -z "$go_bin" ]; then
  say "no Jaeger $version in $cache_dir and no Go toolchain to build one."
  say "Install Go (https://go.dev/doc/install) and re-run."
  exit 1
fi

# One build at a time: a second caller waits for the first instead of compiling the same tree twice.
mkdir -p "$cache_dir"
exec 9>"$cache_dir/.build.lock"
flock 9
if [ -x "$binary" ]; then echo "$binary"; exit 0; fi

say "building Jaeger $version from the Go module proxy into $cache_dir (first run only, many minutes)..."
started=$(date +%s)
# Jaeger's go.mod has a `replace` line, so `go install pkg@version` refuses it: fetch the module
# (checksum-verified against the Go checksum database) and build inside it, with its own go.sum.
module_dir=$(GOFLAGS=-mod=mod GOTOOLCHAIN=auto "$go_bin" mod download -json "github.com/jaegertracing/jaeger@v$version" \
  | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
[ -d "$module_dir" ] || { say "go mod download gave no module directory"; exit 1; }
staging="$cache_dir/.staging"
rm -rf "$staging"; mkdir -p "$staging"
(cd "$module_dir" && GOFLAGS="-mod=mod" GOTOOLCHAIN=auto CGO_ENABLED=0 "$go_bin" build -trimpath \
  -ldflags "-X github.com/jaegertracing/jaeger/internal/version.latestVersion=v$version" \
  -o "$staging/jaeger" ./cmd/jaeger >&2)
mv "$staging/jaeger" "$binary"
rm -rf "$staging"
say "built in $(( $(date +%s) - started ))s"
echo "$binary"
