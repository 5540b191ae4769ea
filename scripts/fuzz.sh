#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz preset: clang-14, ASan + UBSan) and runs each for SECONDS
# (default 60), one after the other, on a copy of its seed corpus in tests/fuzz/corpus/, so the
# inputs libFuzzer adds never land in the repository. Prints each target's exec count and
# coverage; exits non-zero when any target crashed, leaked, hit a sanitizer report or broke an
# invariant, leaving the input that did it in build/fuzz/artifacts/ and its log in
# build/fuzz/logs/.
#
#   scripts/fuzz.sh [SECONDS]        e.g. scripts/fuzz.sh 600 for the ten-minute runs by hand
#   FUZZ_TARGETS="config render" scripts/fuzz.sh 60    only some targets
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${1:-60}
if ! [[ $seconds =~ ^[1-9][0-9]*$ ]]; then
  echo "usage: scripts/fuzz.sh [SECONDS]" >&2
  exit 2
fi

# Longest input per target: just over the proxy's max_target_length for targets, a large config
# file, a Vault answer or template of a realistic size (longer inputs only slow the search).
declare -A max_len=([target]=4200 [config]=8192 [vault_response]=16384 [render]=8192)
targets=(${FUZZ_TARGETS:-target config vault_response render})

export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1 CCACHE_MAXSIZE=${CCACHE_MAXSIZE:-5G}
cmake --preset fuzz >/dev/null
cmake --build --preset fuzz -j "$(nproc)"

build=$PWD/build/fuzz
mkdir -p "$build/artifacts" "$build/logs"
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:strict_string_checks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1

failed=0
for name in "${targets[@]}"; do
  if [ -z "${max_len[$name]:-}" ]; then
    echo "fuzz: unknown target $name" >&2
    exit 2
  fi
  work=$build/work/$name
  rm -rf "$work"
  mkdir -p "$work"
  cp tests/fuzz/corpus/"$name"/* "$work"/
  log=$build/logs/$name.log
  dict=()
  [ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")

  status=0
  "$build/tests/fuzz/${name}_fuzzer" "$work" "${dict[@]}" \
    -max_total_time="$seconds" -max_len="${max_len[$name]}" -rss_limit_mb=2048 -timeout=30 \
    -detect_leaks=1 -print_final_stats=1 -artifact_prefix="$build/artifacts/$name-" \
    >"$log" 2>&1 || status=$?

  # A crash can end the run before the final stats or any progress line: `|| true` keeps a
  # missing figure from stopping the script (pipefail) before it reports the failure.
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  [ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$log" | tail -n 1 | tr -d '#' || true)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2 || true)
  if [ "$status" -eq 0 ] && ! grep -qE 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:' "$log"; then
    printf 'fuzz: %-15s PASS  %s execs in %ss, cov %s\n' "$name" "${execs:-?}" "$seconds" "${cov:-?}"
  else
    failed=1
    printf 'fuzz: %-15s FAIL  (exit %s) after %s execs; log %s\n' "$name" "$status" "${execs:-?}" "$log"
    grep -E 'ERROR|runtime error|invariant violated|SUMMARY|Test unit written' "$log" | head -n 20 || true
  fi
done
exit "$failed"
