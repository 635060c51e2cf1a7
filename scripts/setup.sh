#!/usr/bin/env bash
# Sets up a fresh machine for bedrock-spend: pnpm 12.4.2 and the workspace dependencies.
# Idempotent: a second run only re-checks. Needs the npm registry (and Debian's packages once
# local mode needs Java and Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."

PNPM_VERSION=12.4.2
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm $PNPM_VERSION" >&2
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1 || npm install -g "pnpm@$PNPM_VERSION"
fi

echo "setup: installing workspace dependencies" >&2
pnpm install --frozen-lockfile >/dev/null 2>&1 || pnpm install --frozen-lockfile
