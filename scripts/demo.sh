#!/usr/bin/env bash
# Builds vault-sidecar and runs it in front of the bundled Vault dev double, then shows what a
# shell script sees: a KV secret and database credentials through http://127.0.0.1:8100 without
# any token. Keeps both running until Ctrl-C when started from a terminal.
#
#   scripts/demo.sh              # port 8100 (DEMO_PORT=8200 scripts/demo.sh to change it)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
port=${DEMO_PORT:-8100}

scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release --target vault-sidecar vault-dev-double

bin=$root/build/release
work=$(mktemp -d -t vault-sidecar-demo.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

wait_for_file() {
  for _ in $(seq 600); do [ -s "$1" ] && return 0; sleep 0.05; done
  echo "demo: $1 did not appear" >&2
  return 1
}

echo "== starting the Vault dev double (seed: tests/support/demo-seed.json)"
"$bin/tests/support/vault-dev-double" --listen 127.0.0.1:0 --port-file "$work/vault.port" \
  --control-port-file "$work/control.port" --seed tests/support/demo-seed.json \
  2>"$work/vault.log" &
pids+=($!)
wait_for_file "$work/vault.port"
vault_port=$(cat "$work/vault.port")

# The AppRole credentials go to files only the sidecar reads; nobody else handles them again.
umask 077
jq -r '.approles[] | select(.name == "demo") | .role_id' tests/support/demo-seed.json >"$work/role_id"
jq -r '.approles[] | select(.name == "demo") | .secret_id' tests/support/demo-seed.json >"$work/secret_id"

cat >"$work/vault-sidecar.ini" <<INI
[vault]
address = http://127.0.0.1:$vault_port

[auth]
role_id_file = $work/role_id
secret_id_file = $work/secret_id

[listener]
address = 127.0.0.1:$port

[cache]
ttl = 5m
refresh_interval = 30s

[secrets]
db = database/creds/myapp-role
INI

echo "== starting vault-sidecar on 127.0.0.1:$port"
"$bin/src/vault-sidecar" --config "$work/vault-sidecar.ini" 2>"$work/sidecar.log" &
sidecar=$!
pids+=("$sidecar")
for _ in $(seq 600); do
  curl -sf "http://127.0.0.1:$port/sidecar/v1/health" >/dev/null && break
  if ! kill -0 "$sidecar" 2>/dev/null; then
    echo "demo: vault-sidecar exited; its log:" >&2
    cat "$work/sidecar.log" >&2
    exit 1
  fi
  sleep 0.05
done

show() {
  echo
  echo "\$ $*"
  "$@"
  echo
}

# Runs until Ctrl-C when started from a terminal (the sidecar's pid is the second).

show curl -s "http://127.0.0.1:$port/sidecar/v1/health"
show curl -s -i "http://127.0.0.1:$port/v1/kv-demo/data/sample"
echo "A shell script needs one line:"
show sh -c "curl -s http://127.0.0.1:$port/v1/kv-demo/data/sample | jq -r .data.data.password"
show curl -s "http://127.0.0.1:$port/v1/database/creds/myapp-role"
echo "Anything outside [proxy] allow is refused and never reaches Vault:"
show curl -s -i "http://127.0.0.1:$port/v1/auth/token/create"
echo "A legacy app only needs VAULT_ADDR=http://127.0.0.1:$port (no token)."

if [ -t 0 ]; then
  echo "== running; logs in $work/*.log. Ctrl-C stops both."
  wait "$sidecar"
fi
