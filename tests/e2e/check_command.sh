#!/usr/bin/env bash
# End-to-end checks of the vault-sidecar command line, run against the real binary.
# usage: check_command.sh BINARY EXAMPLE_INI CASE
#   example        the shipped example file passes `check` (exit 0)
#   documented     the example, uncommented, passes too, and names every key `check` prints
#   bad_config     four different mistakes: exit 78, each named on stderr with its line
#   version        --version prints "vault-sidecar <version>"
#   usage          an unknown option: exit 64 with the usage on stderr
set -euo pipefail

binary=$1
example=$2
case=$3

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }

# A clean environment, so a VAULT_ADDR of the caller cannot change the outcome.
sidecar() { env -i PATH="$PATH" "$binary" "$@"; }

# Runs the sidecar, keeping the exit code, stdout and stderr.
run() {
  set +e
  sidecar "$@" >"$work/out" 2>"$work/err"
  code=$?
  set -e
}

expect_code() {
  [[ $code == "$1" ]] || { cat "$work/err" >&2; fail "exit code $code, expected $1"; }
}

expect_in() {  # FILE TEXT
  grep -qF -- "$2" "$work/$1" || { cat "$work/$1" >&2; fail "$1 lacks: $2"; }
}

case $case in
  example)
    run check --config "$example"
    expect_code 0
    expect_in out "$example: valid"
    expect_in out "[listener]"
    ;;

  documented)
    # Uncomment the commented-out sections and keys: the result must be valid as well.
    sed -e 's/^;\[/[/' -e 's/^;\([a-z_]* = \)/\1/' "$example" >"$work/full.ini"
    run check --config "$work/full.ini"
    expect_code 0
    expect_in out "[exec]"
    expect_in out "[template.app-config]"
    # Every key check prints (that is, every key of every fixed section) is in the example.
    current=""
    while IFS= read -r line; do
      if [[ $line =~ ^\[(.*)\]$ ]]; then
        current=${BASH_REMATCH[1]}
      elif [[ $line =~ ^([a-z_]+)\ = && $current != secrets && $current != env ]]; then
        key=${BASH_REMATCH[1]}
        grep -qE "^;?$key =( |$)" "$example" || fail "key $current.$key is not documented in $example"
      fi
    done <"$work/out"
    ;;

  bad_config)
    cat >"$work/bad.ini" <<'INI'
[vault]
address = https://127.0.0.1:8200
[auth]
renew_at = 1.5
[cache]
ttl = 5 minutes
[listener]
address = 0.0.0.0:8100
colour = blue
INI
    for mode in check run; do
      if [[ $mode == check ]]; then run check --config "$work/bad.ini"; else run --config "$work/bad.ini"; fi
      expect_code 78
      expect_in err "the configuration has 4 problems"
      expect_in err "$work/bad.ini:4: auth.renew_at: must be a fraction between 0 and 1"
      expect_in err "$work/bad.ini:6: cache.ttl: invalid duration \"5 minutes\""
      expect_in err "$work/bad.ini:8: listener.address: \"0.0.0.0\" is not a loopback address"
      expect_in err "$work/bad.ini:9: listener.colour: unknown key"
    done
    ;;

  version)
    run --version
    expect_code 0
    grep -qxE 'vault-sidecar [0-9]+\.[0-9]+\.[0-9]+' "$work/out" || { cat "$work/out" >&2; fail "no version line"; }
    ;;

  usage)
    run --no-such-option
    expect_code 64
    expect_in err "unknown option --no-such-option"
    expect_in err "usage: vault-sidecar"
    ;;

  *)
    fail "unknown case $case"
    ;;
esac
echo "ok: $case"
