#!/usr/bin/env bash
# Sets Layerlab up on a Debian or Ubuntu machine: a running Docker engine, debootstrap (to build
# the course's base images without a registry), the npm packages, the build, and the `course`
# command on PATH. Safe to run again. Run it as root (or with sudo) from the Layerlab folder.
#
#   bash setup.sh           what the course needs
#   bash setup.sh --tests   also what the test suite needs (Chromium for the browser tests)
set -euo pipefail
cd "$(dirname "$0")"

with_tests=false
for arg in "$@"; do
  case "$arg" in
    --tests) with_tests=true ;;
    -h | --help) sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "setup.sh: unknown option $arg (try --help)" >&2; exit 2 ;;
  esac
done

say() { printf '\033[1m• %s\033[0m\n' "$*"; }
fail() { printf 'error: %s\n  %s\n' "$1" "$2" >&2; exit 3; }

[ "$(id -u)" = 0 ] || fail "setup.sh installs system packages and needs root." "Run it again as root: sudo bash setup.sh"
command -v apt-get >/dev/null || fail "setup.sh knows Debian and Ubuntu (apt-get), and this machine has no apt-get." \
  "Install a Docker engine, debootstrap and Node.js 20 or newer yourself, then run: npm ci && npm run build"

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
[ "$node_major" -ge 20 ] || fail "Layerlab needs Node.js 20 or newer (found: $(node --version 2>/dev/null || echo none))." \
  "Install Node.js 20 or newer, then run setup.sh again."

packages=()
command -v dockerd >/dev/null || packages+=(docker.io)
command -v debootstrap >/dev/null || packages+=(debootstrap)
# node-pty and better-sqlite3 (the class database) compile when npm installs them.
command -v g++ >/dev/null || packages+=(g++)
command -v make >/dev/null || packages+=(make)
command -v python3 >/dev/null || packages+=(python3)
$with_tests && ! command -v chromium >/dev/null && packages+=(chromium)
if [ ${#packages[@]} -gt 0 ]; then
  say "Installing ${packages[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >/dev/null
  apt-get install -y -q --no-install-recommends "${packages[@]}" ca-certificates >/dev/null
fi

if ! docker info >/dev/null 2>&1; then
  say "Starting the Docker engine"
  if [ -d /run/systemd/system ]; then
    systemctl enable --now docker >/dev/null
  else
    # No init system to ask (containers, CI machines): start it in the background ourselves.
    setsid dockerd >/var/log/layerlab-dockerd.log 2>&1 </dev/null &
  fi
  for _ in $(seq 1 120); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || fail "The Docker engine did not start." "See /var/log/layerlab-dockerd.log (or journalctl -u docker) for why."
fi

say "Installing npm packages"
# `npm install` rather than `npm ci`: registries that serve only this platform's optional
# packages (rollup's and esbuild's per-OS builds) leave the others out of the lock file, and
# `npm ci` then refuses it as out of sync. With the lock as it is, install changes nothing.
npm install --no-audit --no-fund --loglevel=error
say "Building Layerlab"
npm run build --silent
npm link --silent >/dev/null 2>&1 || echo "(could not put \`course\` on PATH; use \`npx course\` from this folder)"
say "Ready. Start the course with: course up"
