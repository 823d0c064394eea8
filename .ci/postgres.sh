#!/usr/bin/env bash
# Start and stop a throwaway PostgreSQL cluster for FerretDB's postgresql handler (the second
# test server: it filters queries in PostgreSQL, so it carries the multi-process reliability load
# that FerretDB on SQLite cannot; see docs/reliability.md).
#
#   bash .ci/postgres.sh start   # initdb + start on 127.0.0.1, print `export POSTGRES_URL=...` (for eval)
#   bash .ci/postgres.sh stop    # stop it and remove its data directory
#
# Needs Debian's `postgresql` package (.ci/run installs it). Run as root, the server runs as the
# package's `postgres` user (PostgreSQL refuses to run as root).
#
# Environment:
#   POSTGRES_STATE_FILE  where start records PID / data dir for stop (default under $TMPDIR)
#   POSTGRES_PARENT_PID  if set, a watchdog stops the server when this process exits
#
# Only `start` writes to stdout (the export line); everything else goes to stderr.
set -euo pipefail

TMP_BASE="${TMPDIR:-/tmp}"
TMP_BASE="${TMP_BASE%/}"
STATE_FILE="${POSTGRES_STATE_FILE:-$TMP_BASE/intellibrowse-postgres-$(id -u).state}"

# shellcheck source=server-state.sh
source "$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)/server-state.sh"

log() { printf '[postgres.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

pg_bin() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)"
  [[ -n "$dir" && -x "$dir/pg_ctl" ]] || die "PostgreSQL binaries not found under /usr/lib/postgresql (apt-get install postgresql)"
  echo "$dir"
}

# Run a command as the server's user: `postgres` when we are root, else ourselves.
as_server_user() {
  if [[ "$(id -u)" == 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

do_stop() {
  read_state || { log "not running (no state file $STATE_FILE)"; return 0; }
  if [[ -n "$WATCHDOG_PID" ]] && kill -0 "$WATCHDOG_PID" 2>/dev/null; then kill -TERM "$WATCHDOG_PID" 2>/dev/null || true; fi
  if [[ -n "$DATA_DIR" && -d "$DATA_DIR/data" ]]; then
    as_server_user "$(pg_bin)/pg_ctl" -D "$DATA_DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  case "$DATA_DIR" in */postgres-data.*) rm -rf -- "$DATA_DIR" ;; esac
  rm -f -- "$STATE_FILE"
  log "stopped (port $PORT)"
}

do_start() {
  read_state && do_stop
  local bin port dir
  bin="$(pg_bin)"
  port="$(free_port)"
  dir="$(mktemp -d "$TMP_BASE/postgres-data.XXXXXX")"
  [[ "$(id -u)" == 0 ]] && chown postgres "$dir"
  as_server_user "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1 \
    || { cat "$dir/initdb.log" >&2; rm -rf -- "$dir"; die "initdb failed"; }
  # Throwaway data: no fsync. The socket goes to the data directory, not /var/run.
  as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 30 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null \
    || { cat "$dir/server.log" >&2; rm -rf -- "$dir"; die "PostgreSQL did not start"; }
  local pid
  pid="$(head -n1 "$dir/data/postmaster.pid")"
  as_server_user "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -qc "CREATE DATABASE ferretdb" >/dev/null \
    || { do_stop; die "could not create the ferretdb database"; }

  local watchdog_pid=""
  if [[ -n "${POSTGRES_PARENT_PID:-}" ]]; then
    # SIGQUIT: PostgreSQL's immediate shutdown.
    watchdog_pid="$(start_watchdog postgres-watchdog "$POSTGRES_PARENT_PID" "$pid" QUIT "$dir" '*/postgres-data.*')"
  fi
  write_state "$pid" "$dir" "$port" "$watchdog_pid"
  log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') listening on 127.0.0.1:$port, data $dir"
  echo "export POSTGRES_URL=postgres://postgres@127.0.0.1:$port/ferretdb"
}

case "${1:-}" in
  start) do_start ;;
  stop) do_stop ;;
  *) die "usage: $0 start|stop" ;;
esac
