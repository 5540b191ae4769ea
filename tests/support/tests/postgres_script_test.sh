#!/usr/bin/env bash
# scripts/postgres.sh on its own: start a cluster, check what it promises (conninfo file and
# output agree, loopback only, password logins, durability off), refuse a non-empty DIR, stop
# it and check nothing is left running. Exit 77 (CTest: skipped) without a PostgreSQL server.
set -euo pipefail

script=${1:?usage: $0 path/to/postgres.sh}
command -v psql >/dev/null || { echo "skipped: no psql (postgresql-client)"; exit 77; }
ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1 ||
  [ -n "${PG_BIN:-}" ] || { echo "skipped: no PostgreSQL server installed"; exit 77; }

dir=$(mktemp -d)
cleanup() {
  "$script" stop "$dir" >/dev/null 2>&1 || true
  rm -rf "$dir"
}
trap cleanup EXIT

fail() {
  echo "FAIL: $*" >&2
  exit 1
}

conninfo=$("$script" start "$dir")
[ "$conninfo" = "$(cat "$dir/conninfo")" ] || fail "printed and written connection strings differ"
port=$(cat "$dir/port")
[[ $conninfo == *"host=127.0.0.1 port=$port "* ]] || fail "unexpected connection string: $conninfo"
[ "$(stat -c %a "$dir/conninfo")" = 600 ] || fail "conninfo is readable by others"

[ "$(psql "$conninfo" -Atc 'SELECT 1')" = 1 ] || fail "the admin cannot run SELECT 1"
[ "$(psql "$conninfo" -Atc 'SHOW listen_addresses')" = 127.0.0.1 ] || fail "listens beyond loopback"
[ "$(psql "$conninfo" -Atc 'SHOW fsync')" = off ] || fail "fsync is on"
[ "$(psql "$conninfo" -Atc 'SELECT rolsuper FROM pg_roles WHERE rolname = current_user')" = t ] ||
  fail "the admin is not a superuser"

wrong=${conninfo/password=/password=x}
if psql "$wrong" -Atc 'SELECT 1' >/dev/null 2>&1; then fail "a wrong password logs in"; fi

if "$script" start "$dir" >/dev/null 2>&1; then fail "start on a non-empty DIR succeeded"; fi

pid=$(head -n 1 "$dir/data/postmaster.pid")
kill -0 "$pid" || fail "no server process $pid"
"$script" stop "$dir"
# The postmaster removes its pid file just before it exits, and a zombie counts as gone.
alive() { [ -e "/proc/$1" ] && [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" != Z ]; }
for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
if alive "$pid"; then fail "the server $pid outlived stop"; fi
if psql "$conninfo" -Atc 'SELECT 1' >/dev/null 2>&1; then fail "still accepting after stop"; fi
"$script" stop "$dir" || fail "a second stop is not a no-op"
echo "postgres.sh: start, login, stop ok (port $port)"
