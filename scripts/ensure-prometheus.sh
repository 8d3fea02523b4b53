#!/usr/bin/env bash
# Prints the directory holding Prometheus 3.16.0 (`prometheus`) and its `promtool`, building both from
# source (Go module github.com/prometheus/prometheus v0.316.0, through the Go module proxy) into a
# versioned cache outside the repo when the cache has none. Prints nothing else on stdout:
# PROM_DIR=$(scripts/ensure-prometheus.sh).
set -euo pipefail

version="3.16.0"
module_version="v0.316.0"
cache_dir="${MM_PROMETHEUS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mm-onboarding/prometheus-$version}"

say() { echo "[prometheus] $*" >&2; }

if [ -x "$cache_dir/prometheus" ] && [ -x "$cache_dir/promtool" ]; then
  echo "$cache_dir"; exit 0
fi

go_bin=$(command -v go || true)
[ -n "$go_bin" ] || { [ -x /usr/local/go/bin/go ] && go_bin=/usr/local/go/bin/go; }
if [ -z "$go_bin" ]; then
  say "no Prometheus $version in $cache_dir and no Go toolchain to build one."
  say "Install Go (https://go.dev/doc/install) and re-run."
  exit 1
fi

# One build at a time: a second caller (another jest worker, another script) waits for the first.
mkdir -p "$cache_dir"
exec 9>"$cache_dir/.build.lock"
flock 9
if [ -x "$cache_dir/prometheus" ] && [ -x "$cache_dir/promtool" ]; then
  echo "$cache_dir"; exit 0
fi

say "building Prometheus $version and promtool from source into $cache_dir (first run only, several minutes)..."
started=$(date +%s)
staging="$cache_dir/.staging"
rm -rf "$staging"; mkdir -p "$staging"
# remove_all_sd,enable_dns_sd: leave out the cloud service discoveries (AWS, Azure, GCE, ...), keep
# DNS (deploy/prometheus/prometheus.yml finds every scaled worker by its compose service name);
# the build is much smaller without them.
# The web UI is not embedded (no `builtinassets` tag): the HTTP API, which tests and Grafana use, is.
# go.mod asks for Go >= 1.26.7: GOTOOLCHAIN=auto fetches it through the proxy when the local Go is older.
GOBIN="$staging" GOFLAGS="-mod=mod" GOTOOLCHAIN=auto "$go_bin" install -tags remove_all_sd,enable_dns_sd \
  -ldflags "-X github.com/prometheus/common/version.Version=$version" \
  "github.com/prometheus/prometheus/cmd/prometheus@$module_version" \
  "github.com/prometheus/prometheus/cmd/promtool@$module_version" >&2
mv "$staging/promtool" "$cache_dir/promtool"
mv "$staging/prometheus" "$cache_dir/prometheus"
rm -rf "$staging"
say "built in $(( $(date +%s) - started ))s"
echo "$cache_dir"
