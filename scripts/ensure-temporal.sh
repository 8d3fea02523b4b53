#!/usr/bin/env bash
# Prints the path of a `temporal` CLI whose dev server is Temporal Server 1.32.2 with Web UI 2.54.1,
# building it from source into a versioned cache outside the repo when neither PATH nor the cache has
# one. Progress goes to stderr so callers can capture stdout: TEMPORAL_BIN=$(scripts/ensure-temporal.sh).
#
# Why not simply CLI v1.9.1 (the newest release, Server 1.32.0): its go.mod says
# `replace github.com/temporalio/cli/cliext => ./cliext`, and a Go module zip leaves out nested
# modules, so the module proxy's v1.9.1 has no cliext/ directory, and cliext is not published on its
# own: `go build` there fails with "replacement directory ./cliext does not exist". So this builds
# the CLI v1.5.1 commands (the newest release that builds from the proxy) with CLI v1.9.1's embedded
# dev server code (internal/devserver, written for Server 1.32), on Server 1.32.2 and UI 2.54.1 (the
# UI v1.9.1 bundles), with one field renamed in v1.5.1's source (see below). Everything comes from
# the Go module proxy.
set -euo pipefail

cli_version="1.5.1"       # the commands (temporal workflow / operator / worker deployment ...)
devserver_version="1.9.1" # the dev server code, from this CLI release
server_version="1.32.2"   # the server it embeds: the same as scripts/ensure-temporal-server.sh
ui_version="2.54.1"       # the Web UI it serves
label="$cli_version-server-$server_version"
cache_dir="${MM_TEMPORAL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/mm-onboarding/temporal-cli-$label}"
cached="$cache_dir/temporal"
# What `temporal --version` prints for this build.
want="Server $server_version, UI $ui_version"

say() { echo "[temporal] $*" >&2; }

# A `temporal` on PATH is used only when its dev server is the pinned one: the tests rely on its behaviour.
if on_path=$(command -v temporal 2>/dev/null) && "$on_path" --version 2>/dev/null | grep -qF "$want"; then
  echo "$on_path"; exit 0
fi
if [ -x "$cached" ]; then
  echo "$cached"; exit 0
fi

go_bin=$(command -v go || true)
[ -n "$go_bin" ] || { [ -x /usr/local/go/bin/go ] && go_bin=/usr/local/go/bin/go; }
if [ -z "$go_bin" ]; then
  say "no temporal CLI ($want) on PATH or in $cache_dir, and no Go toolchain to build one."
  say "Install Go (https://go.dev/doc/install) and re-run, or put such a temporal on PATH."
  exit 1
fi

# One build at a time: a second caller waits for the first instead of compiling the same tree twice.
mkdir -p "$cache_dir"
exec 9>"$cache_dir/.build.lock"
flock 9
if [ -x "$cached" ]; then
  echo "$cached"; exit 0
fi

say "building temporal CLI $cli_version with Server $server_version and UI $ui_version from source into $cache_dir (first run only, several minutes)..."
started=$(date +%s)
staging="$cache_dir/.staging"
rm -rf "$staging"; mkdir -p "$staging"
# Server 1.32.2's go.mod asks for Go >= 1.26.10: GOTOOLCHAIN=auto lets an older local Go (>= 1.21)
# fetch that toolchain through the module proxy, as `go` does by default when installed from go.dev.
export GOFLAGS="-mod=mod" GOTOOLCHAIN=auto
module_dir() { (cd "$staging" && "$go_bin" mod download -json "$1" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p'); }
cli_src=$(module_dir "github.com/temporalio/cli@v$cli_version")
devserver_src=$(module_dir "github.com/temporalio/cli@v$devserver_version")
[ -d "$cli_src/temporalcli/devserver" ] && [ -d "$devserver_src/internal/devserver" ] || { say "module download failed"; exit 1; }

cp -r "$cli_src" "$staging/src"
chmod -R u+w "$staging/src"
cp "$devserver_src"/internal/devserver/{server.go,log.go,freeport.go} "$staging/src/temporalcli/devserver/"
cd "$staging/src"
# The one API rename between the API module v1.5.1 was built on and the server's: WorkerHostInfo's
# process_key is worker_grouping_key (shown by `temporal worker describe`).
sed -i 's/info\.GetProcessKey()/info.GetWorkerGroupingKey()/' temporalcli/commands.worker.go
grep -q 'GetWorkerGroupingKey' temporalcli/commands.worker.go || { say "the source to patch has changed"; exit 1; }
"$go_bin" get "go.temporal.io/server@v$server_version" "github.com/temporalio/ui-server/v2@v$ui_version" >&2
"$go_bin" build -o "$staging/temporal" \
  -ldflags "-X github.com/temporalio/cli/temporalcli.Version=$cli_version -X github.com/temporalio/cli/temporalcli.buildInfo=dev-server-of-cli-$devserver_version" \
  ./cmd/temporal >&2
cd /
mv "$staging/temporal" "$cached"
rm -rf "$staging"
say "built in $(( $(date +%s) - started ))s: $("$cached" --version)"
echo "$cached"
