#!/usr/bin/env bash
# Installs dependencies, builds under AddressSanitizer + UndefinedBehaviorSanitizer with warnings
# as errors, and runs every test. What CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

# ccache keyed on paths relative to the checkout, so every clone on this machine shares hits.
export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}

cmake --preset asan
cmake --build --preset asan -j "$(nproc)"
# A throwaway PostgreSQL behind the Vault double's database mount (tests/support/README.md),
# started after the build so it does not idle through it.
pg_dir=$(mktemp -d)
trap 'scripts/postgres.sh stop "$pg_dir" || true; rm -rf "$pg_dir"' EXIT
SIDECAR_TEST_POSTGRES=$(scripts/postgres.sh start "$pg_dir")
export SIDECAR_TEST_POSTGRES

ctest --preset asan -j "$(nproc)" --timeout 300

# Every libFuzzer target for 10 s on its seed corpus (clang-14 build in build/fuzz).
scripts/fuzz.sh 10
