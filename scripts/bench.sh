#!/usr/bin/env bash
# Benchmarks vault-sidecar against nginx and its performance targets (README "Performance").
#   scripts/bench.sh          the full run: a markdown table on stdout and in build/bench/results.md,
#                             exit 1 when a target fails (a few minutes on 2 cores)
#   scripts/bench.sh --quick  the regression check of scripts/test.sh: loose bounds only
# Needs wrk, nginx-light and curl (scripts/install-deps.sh); builds the release preset.
set -euo pipefail
cd "$(dirname "$0")/.."

export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
cmake --preset release >/dev/null
cmake --build --preset release -j 2 --target vault-sidecar vault-dev-double peer-lookup-bench \
  >/dev/null

out=build/bench/results.md
[[ ${1:-} == --quick ]] && out=build/bench/quick.md
exec python3 tests/bench/bench.py --sidecar build/release/src/vault-sidecar \
  --double build/release/tests/support/vault-dev-double \
  --peer-lookup-bench build/release/tests/bench/peer-lookup-bench --out "$out" "$@"
