#!/usr/bin/env bash
# What Vault sees from a fleet of sidecars (README "What Vault sees from a fleet").
#   scripts/fleet.sh            50 sidecars x 3 secrets against one vault-dev-double (~2 min)
#   scripts/fleet.sh --quick    10 sidecars, short windows, loose bounds (run by scripts/test.sh)
# Extra options go to tests/bench/fleet.py (--sidecars N, --refresh S, --outage S, ...).
# Uses the release binaries in build/release when present, else those of build/asan.
set -euo pipefail
cd "$(dirname "$0")/.."

tree=build/release
[[ -x $tree/src/vault-sidecar && -x $tree/tests/support/vault-dev-double ]] || tree=build/asan
if [[ ! -x $tree/src/vault-sidecar || ! -x $tree/tests/support/vault-dev-double ]]; then
  echo "fleet.sh: build vault-sidecar and vault-dev-double first (cmake --build --preset release)" >&2
  exit 2
fi

args=(--out build/fleet/results.md)
if [[ ${1:-} == --quick ]]; then
  shift
  args=(--sidecars 10 --secrets 6 --refresh 4 --steady 6 --outage 10 --after 4 --quota 4 --check
        --out build/fleet/quick.md)
fi
exec python3 tests/bench/fleet.py --sidecar "$tree/src/vault-sidecar" \
  --double "$tree/tests/support/vault-dev-double" "${args[@]}" "$@"
