#!/usr/bin/env bash
# Set up a Debian 12 machine for homelab-observer: install the Debian packages
# the build and the tests need, then configure and build a Release build in
# build/.
#
#   bash scripts/setup.sh             install packages (if missing) and build
#   bash scripts/setup.sh --no-build  only install packages
#
# Runs apt-get directly as root, through sudo otherwise. When every package is
# already installed, apt is not touched at all, so re-runs are fast.
set -euo pipefail

usage() {
  sed -n '2,10s/^# \{0,1\}//p' "$0"
}

build=1
for arg in "$@"; do
  case "$arg" in
    --no-build) build=0 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "setup.sh: unknown argument: $arg (try --help)" >&2; exit 2 ;;
  esac
done

cd "$(dirname "${BASH_SOURCE[0]}")/.."

packages=(
  build-essential cmake pkg-config git ca-certificates
  prometheus-cpp-dev libcivetweb-dev nlohmann-json3-dev libyaml-cpp-dev
  libgtest-dev libgmock-dev libbenchmark-dev libsimdjson-dev
  prometheus              # promtool and prometheus, for integration tests
  prometheus-alertmanager # amtool
  curl python3 python3-yaml  # python3-yaml: alerts/mixin/generate.py
  chromium chromium-driver python3-selenium  # the status page's browser test (tests/browser)
  dpkg-dev file           # dpkg-shlibdeps (needs file), for the .deb's dependencies
  systemd                 # systemd-analyze verify, for the unit's test
  wrk time                # load generator and GNU time, for bench/
  libssl-dev openssl      # TLS for --web.config.file; certificates in its tests
  libcurl4-openssl-dev    # the HTTP client of `send` (exporter/http_client.cc)
  clang libclang-rt-14-dev  # libFuzzer targets (tests/fuzz)
)

log() { printf '==> %s\n' "$*"; }

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  if [[ "$status" != installed ]]; then
    missing+=("$pkg")
  fi
done

if ((${#missing[@]} == 0)); then
  log "All ${#packages[@]} Debian packages are already installed."
else
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup.sh: apt-get not found; this script expects Debian 12." >&2
    echo "setup.sh: install these packages by hand: ${missing[*]}" >&2
    exit 1
  fi
  sudo=()
  if [[ "$(id -u)" -ne 0 ]]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "setup.sh: not root and sudo is not available; run as root." >&2
      exit 1
    fi
    sudo=(sudo)
  fi
  log "Installing ${#missing[@]} missing Debian package(s): ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y --no-install-recommends "${missing[@]}"
  log "Packages installed."
fi

if ((build == 0)); then
  log "Skipping the build (--no-build)."
  exit 0
fi

jobs=$(nproc 2>/dev/null || echo 2)
log "Configuring the Release build in build/"
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release
log "Building with -j${jobs}"
cmake --build build -j"${jobs}"
log "Built build/bin/homelab-observer"
