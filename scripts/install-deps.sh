#!/usr/bin/env bash
# Installs every build and test dependency from Debian 12 packages. Idempotent; run as root
# (or with sudo available). Nothing is downloaded from anywhere but the Debian archive.
set -euo pipefail

packages=(
  g++ cmake ninja-build ccache pkg-config
  libboost1.81-dev libboost-url1.81-dev libboost-program-options1.81-dev
  libssl-dev nlohmann-json3-dev libspdlog-dev libfmt-dev catch2 libsystemd-dev
  libkainjow-mustache-dev
  curl jq openssl procps python3 python3-yaml
  python3-hvac  # tests/e2e/test_clients.py: the most used Python Vault client, as apps run it
  postgresql postgresql-client libpq-dev
  nginx-light wrk  # scripts/bench.sh, tests/e2e/test_faults.py
  clang-14 libfuzzer-14-dev libclang-rt-14-dev  # scripts/fuzz.sh (libFuzzer)
  # scripts/package.sh and tests/package/test_package.sh (the .deb, its lintian run, the man
  # page rendering, systemd-analyze verify on the unit)
  dpkg-dev binutils lintian groff-base man-db init-system-helpers systemd
  clang-format  # scripts/test.sh format check
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

sudo_cmd=()
[ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
