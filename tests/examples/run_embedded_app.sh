#!/bin/sh
# Installs the build into a temporary prefix, builds tests/examples/embedded_app against it as a
# separate CMake project (find_package(vault_sidecar) through CMAKE_PREFIX_PATH), and runs it
# against a vault-dev-double whose database creds last 6 s, so a rotation (at 4/5) is printed.
# usage: run_embedded_app.sh BUILD_DIR EXAMPLE_SOURCE DOUBLE_BIN CXX_FLAGS LINKER_FLAGS
set -eu
build_dir=$1 example=$2 double_bin=$3 cxx_flags=$4 linker_flags=$5

work=$(mktemp -d "${TMPDIR:-/tmp}/sidecar-embedded-XXXXXX")
double_pid=
cleanup() {
  if [ -n "$double_pid" ]; then kill "$double_pid" 2>/dev/null || true; wait "$double_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

cmake --install "$build_dir" --prefix "$work/prefix" --component library >/dev/null
# The same flags as the installed libraries (a sanitizer build needs its runtime at link time).
cmake -S "$example" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" \
  -DCMAKE_BUILD_TYPE=Debug "-DCMAKE_CXX_FLAGS=$cxx_flags" \
  "-DCMAKE_EXE_LINKER_FLAGS=$linker_flags" >/dev/null
cmake --build "$work/build" -j2 >/dev/null

# The pkg-config file names what a non-CMake build needs.
PKG_CONFIG_PATH="$work/prefix/lib/pkgconfig" pkg-config --cflags --libs vault_sidecar \
  | grep -q -- '-lsidecar_client'

cat >"$work/seed.json" <<'SEED'
{
  "kv_mounts": {"kv-demo": {"version": 2, "secrets": {"sample": {"password": "never-printed-7731"}}}},
  "policies": {"demo": {"kv-demo/*": ["read"], "database/creds/*": ["read"]}},
  "database_roles": [{"name": "myapp-role", "default_ttl": 6, "max_ttl": 300}],
  "approles": [{"name": "demo", "role_id": "embedded-role-id", "secret_id": "embedded-secret-id",
                "policies": ["demo"], "token_ttl": 3600, "token_max_ttl": 86400}]
}
SEED
"$double_bin" --listen 127.0.0.1:0 --port-file "$work/port" --seed "$work/seed.json" \
  2>"$work/double.log" &
double_pid=$!
tries=0
while [ ! -s "$work/port" ]; do
  tries=$((tries + 1))
  if [ "$tries" -gt 300 ]; then echo "the double did not start" >&2; cat "$work/double.log" >&2; exit 1; fi
  sleep 0.1
done

status=0
VAULT_ADDR="http://127.0.0.1:$(cat "$work/port")" VAULT_ROLE_ID=embedded-role-id \
  VAULT_SECRET_ID=embedded-secret-id \
  "$work/build/embedded_app" kv-demo/data/sample database/creds/myapp-role 30 \
  >"$work/out.log" 2>&1 || status=$?
cat "$work/out.log"
[ "$status" -eq 0 ] || { echo "embedded_app exited $status" >&2; exit 1; }
grep -q '^kv kv-demo/data/sample: keys password$' "$work/out.log"
grep -q '^creds rotated for database/creds/myapp-role' "$work/out.log"
if grep -q 'never-printed-7731' "$work/out.log"; then echo "a secret value was printed" >&2; exit 1; fi
echo "embedded_app: built against the installed package, read KV and creds, saw a rotation"
