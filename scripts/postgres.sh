#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for the tests that need a real database behind the Vault dev
# double's database mount.
#
#   scripts/postgres.sh start DIR   initdb a cluster in DIR/data, start it on a free port of
#                                   127.0.0.1, write DIR/conninfo and print it on stdout
#   scripts/postgres.sh stop DIR    stop it (fast shutdown); DIR and its log stay for the caller
#
# DIR must be empty or absent. The superuser is `sidecar_admin` with a random password (in the
# connection string); TCP logins need a password (scram-sha-256), so a dropped or expired role
# really cannot log in. The server never listens beyond 127.0.0.1; its unix socket lives in
# DIR. Durability is switched off (fsync, full_page_writes): the data is disposable.
#
# initdb and postgres refuse to run as root: as root the cluster belongs to the `postgres`
# system user (created by Debian's postgresql package) and DIR is handed over to it; otherwise it
# runs as the calling user. PG_BIN overrides the server directory (default: the newest
# /usr/lib/postgresql/*/bin). Exit status 77 when no PostgreSQL server is installed, so a test
# harness can skip.
set -euo pipefail

readonly admin_user=sidecar_admin

die() {
  echo "postgres.sh: $*" >&2
  exit 1
}

usage() {
  echo "usage: $0 start DIR | stop DIR" >&2
  exit 2
}

find_bin() {
  if [ -n "${PG_BIN:-}" ]; then
    [ -x "$PG_BIN/postgres" ] || die "PG_BIN=$PG_BIN has no postgres binary"
    echo "$PG_BIN"
    return
  fi
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$dir" ] || [ ! -x "$dir/initdb" ]; then
    echo "postgres.sh: no PostgreSQL server found (install Debian's postgresql package)" >&2
    exit 77
  fi
  echo "$dir"
}

# Runs a server binary as the cluster's owner.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# A port nobody listens on right now. Another process may take it before the server binds;
# start() retries with a fresh one.
free_port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

start() {
  local dir=$1 bin password port attempt
  bin=$(find_bin)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ -z "$(ls -A "$dir")" ] || die "$dir is not empty"
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "no 'postgres' system user to run the server as"
    chown postgres: "$dir"
    chmod 0700 "$dir"
    runuser -u postgres -- test -w "$dir" ||
      die "user postgres cannot reach $dir (a parent directory is closed to it)"
  fi

  password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
  (umask 077 && printf '%s\n' "$password" >"$dir/admin-password")
  [ "$(id -u)" -ne 0 ] || chown postgres: "$dir/admin-password"

  as_owner "$bin/initdb" --pgdata="$dir/data" --username="$admin_user" \
    --pwfile="$dir/admin-password" --auth-host=scram-sha-256 --auth-local=trust \
    --encoding=UTF8 --locale=C --no-sync >"$dir/initdb.log" 2>&1 ||
    die "initdb failed: $(tail -n 5 "$dir/initdb.log")"

  # A user with a password set: scram-sha-256 (initdb's --auth-host) applies to every TCP login.
  cat >>"$dir/data/postgresql.conf" <<EOF

# scripts/postgres.sh: a disposable test cluster
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
unix_socket_permissions = 0700
fsync = off
synchronous_commit = off
full_page_writes = off
max_connections = 40
shared_buffers = 16MB
log_min_messages = warning
EOF

  for attempt in 1 2 3 4 5; do
    port=$(free_port)
    if as_owner "$bin/pg_ctl" --pgdata="$dir/data" --log="$dir/postgres.log" --wait \
      --timeout=30 --options="-c port=$port" start >/dev/null 2>&1; then
      local conninfo="host=127.0.0.1 port=$port user=$admin_user password=$password dbname=postgres"
      printf '%s\n' "$port" >"$dir/port"
      (umask 077 && printf '%s\n' "$conninfo" >"$dir/conninfo")
      echo "$conninfo"
      return 0
    fi
    # Most likely the port was taken between free_port and the bind: try another.
    echo "postgres.sh: start on port $port failed (attempt $attempt)" >&2
  done
  die "the server did not start: $(tail -n 5 "$dir/postgres.log" 2>/dev/null)"
}

stop() {
  local dir=$1 bin
  [ -d "$dir/data" ] || return 0
  bin=$(find_bin)
  # Fast shutdown: open sessions are rolled back and disconnected, which is what a test run
  # ending wants. Immediate as a last resort, so a stuck server never outlives the run.
  if as_owner "$bin/pg_ctl" --pgdata="$dir/data" status >/dev/null 2>&1; then
    as_owner "$bin/pg_ctl" --pgdata="$dir/data" --mode=fast --wait --timeout=30 stop >/dev/null ||
      as_owner "$bin/pg_ctl" --pgdata="$dir/data" --mode=immediate --wait stop >/dev/null
  fi
}

[ $# -eq 2 ] || usage
case $1 in
  start) start "$2" ;;
  stop) stop "$2" ;;
  *) usage ;;
esac
