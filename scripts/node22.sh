#!/usr/bin/env bash
# Runs Node.js 22 (installed under .tools/node22 by scripts/install-deps.sh) with the given arguments,
# with that Node first on PATH so child processes that call `node` get Node 22 too.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="${COSIGN_TS_TOOLS:-$ROOT/.tools}"
NODE22_DIR="$TOOLS/node22/node_modules/node/bin"
[ -x "$NODE22_DIR/node" ] || { echo "Node.js 22 is not installed: run bash scripts/install-deps.sh" >&2; exit 1; }
echo "[node22] $("$NODE22_DIR/node" --version)" >&2
PATH="$NODE22_DIR:$PATH" exec "$NODE22_DIR/node" "$@"
