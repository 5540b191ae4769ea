#!/usr/bin/env bash
# Installs dependencies, builds under AddressSanitizer + UndefinedBehaviorSanitizer with warnings
# as errors, and runs every test. What CI runs (.ci/run).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh

cmake --preset asan
cmake --build --preset asan -j "$(nproc)"
ctest --preset asan -j "$(nproc)" --timeout 300
