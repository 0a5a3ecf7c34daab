#!/usr/bin/env bash
# Usage: scripts/node-runtime.sh <major> [command …]
#
# Finds a Node.js runtime of the given major line and prints its bin directory, or, given a
# command, runs it with that directory first on PATH (so pnpm, tap, tsx and every child process
# they spawn run on that Node):
#
#   scripts/node-runtime.sh 24 pnpm test
#   scripts/node-runtime.sh 22 pnpm --filter @authcenter/verifier test
#
# The `node` already on PATH is used when it is of that major. Otherwise the official binary comes
# from the npm registry, never from another download: the `node-<os>-<arch>` package (what the
# `node` package on npm installs too) is installed with npm into
# ${AUTHCENTER_NODE_CACHE:-~/.cache/authcenter}/node-<major> and reused from there afterwards.
set -euo pipefail

major=${1:-}
if [[ ! $major =~ ^[0-9]+$ ]]; then
  echo "usage: $0 <node major, e.g. 24> [command …]" >&2
  exit 2
fi
shift

# The major of the node in a bin directory, or nothing when there is none that runs.
major_of() { "$1/node" -p 'process.versions.node.split(".")[0]' 2>/dev/null || true; }

current_bin=$(dirname "$(command -v node 2>/dev/null || echo /nonexistent/node)")
if [ "$(major_of "$current_bin")" = "$major" ]; then
  bin=$current_bin
else
  case "$(uname -s)" in
    Linux) os=linux ;;
    Darwin) os=darwin ;;
    *) echo "node-runtime: no npm package of the Node binary for $(uname -s); install Node $major yourself" >&2; exit 1 ;;
  esac
  case "$(uname -m)" in
    x86_64 | amd64) arch=x64 ;;
    aarch64 | arm64) arch=arm64 ;;
    *) echo "node-runtime: no npm package of the Node binary for $(uname -m); install Node $major yourself" >&2; exit 1 ;;
  esac
  pkg=node-$os-$arch
  cache=${AUTHCENTER_NODE_CACHE:-$HOME/.cache/authcenter}
  dir=$cache/node-$major
  bin=$dir/node_modules/$pkg/bin
  if [ "$(major_of "$bin")" != "$major" ]; then
    echo "node-runtime: installing $pkg@$major from the npm registry into $dir" >&2
    mkdir -p "$cache"
    # Installed beside the cache and renamed into place, so an interrupted install is never reused.
    tmp=$(mktemp -d "$cache/.node-$major.XXXXXX")
    trap 'rm -rf "$tmp"' EXIT
    echo '{"private":true}' >"$tmp/package.json"
    npm install --prefix "$tmp" --no-save --no-audit --no-fund --loglevel=error "$pkg@$major" >&2
    if [ "$(major_of "$tmp/node_modules/$pkg/bin")" != "$major" ]; then
      echo "node-runtime: $pkg@$major did not give a working Node $major" >&2
      exit 1
    fi
    rm -rf "$dir"
    mv "$tmp" "$dir"
    trap - EXIT
  fi
fi

if [ $# -eq 0 ]; then
  echo "$bin"
else
  PATH=$bin:$PATH exec "$@"
fi
