#!/usr/bin/env bash
# Build, start and stop a throwaway FerretDB v1 (SQLite backend) for the test suite.
#
#   bash .ci/ferretdb.sh build    # ensure the binary exists (cached outside the repo), print its path
#   bash .ci/ferretdb.sh start    # start on 127.0.0.1, print `export MONGODB_URI=...` (meant for eval)
#   bash .ci/ferretdb.sh stop     # stop it and remove its temporary data directory
#   bash .ci/ferretdb.sh status   # print the state file and whether the server is alive
#   bash .ci/ferretdb.sh log      # print the server log
#
# Environment:
#   FERRETDB_VERSION     FerretDB version to build (default v1.24.2, the last v1.x release)
#   FERRETDB_CACHE       directory that holds the binary
#                        (default ${XDG_CACHE_HOME:-$HOME/.cache}/intellibrowse-scheduler/ferretdb-<version>)
#   FERRETDB_PORT        port to listen on (default: a free port picked at start)
#   FERRETDB_STATE_FILE  where start records PID / data dir for stop
#                        (default: under $TMPDIR, keyed by this checkout's path; never inside the repo)
#   FERRETDB_PARENT_PID  if set, a watchdog stops the server when this process exits
#   FERRETDB_LOG_LEVEL   FerretDB log level (default info)
#   FERRETDB_HANDLER     `sqlite` (default) or `postgresql`
#   FERRETDB_POSTGRESQL_URL  the PostgreSQL database for the postgresql handler (.ci/postgres.sh start)
#
# Only `start` writes to stdout (the export line); everything else goes to stderr.
set -euo pipefail

FERRETDB_VERSION="${FERRETDB_VERSION:-v1.24.2}"
FERRETDB_MODULE="github.com/FerretDB/FerretDB"

if [[ -z "${HOME:-}" ]]; then
  HOME="$(getent passwd "$(id -u)" | cut -d: -f6)"
  export HOME
fi

CACHE_DIR="${FERRETDB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/intellibrowse-scheduler/ferretdb-${FERRETDB_VERSION}}"
BIN="$CACHE_DIR/ferretdb"

REPO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd -P)"
REPO_KEY="$(printf '%s' "$REPO_DIR" | cksum | cut -d' ' -f1)"
TMP_BASE="${TMPDIR:-/tmp}"
TMP_BASE="${TMP_BASE%/}"
STATE_FILE="${FERRETDB_STATE_FILE:-$TMP_BASE/intellibrowse-ferretdb-${REPO_KEY}.state}"

# shellcheck source=server-state.sh
source "$REPO_DIR/.ci/server-state.sh"

log() { printf '[ferretdb.sh] %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

find_go() {
  if command -v go >/dev/null 2>&1; then
    command -v go
  elif [[ -x /usr/local/go/bin/go ]]; then
    echo /usr/local/go/bin/go
  else
    die "Go toolchain not found (need go >= 1.24 on PATH or at /usr/local/go/bin/go)"
  fi
}

# A cached binary counts only if it has both handlers (older caches were built without PostgreSQL).
binary_ok() {
  [[ -x "$BIN" ]] && "$BIN" --version >/dev/null 2>&1 || return 1
  # Read the whole help first: `| grep -q` would stop reading early, and under pipefail the
  # writer's SIGPIPE would fail the check.
  local help
  help="$("$BIN" --help 2>&1 || true)"
  [[ "$help" == *"'postgresql'"* ]]
}

# FerretDB's cmd/ferretdb refuses to run (panics in build/version) unless
# build/version/version.txt exists, and that file is generated from git, so it
# is not in the module zip: `go install .../cmd/ferretdb@vX` builds a binary
# that panics at startup. We therefore copy the module source from the module
# cache, write version.txt ourselves, and build from that copy.
do_build() {
  if binary_ok; then
    echo "$BIN"
    return 0
  fi

  local go
  go="$(find_go)"
  mkdir -p "$CACHE_DIR"

  # Serialise concurrent builds into the same cache directory.
  exec 9>"$CACHE_DIR/.build.lock"
  if command -v flock >/dev/null 2>&1; then
    flock 9
  fi
  if binary_ok; then
    echo "$BIN"
    return 0
  fi

  log "building FerretDB $FERRETDB_VERSION into $CACHE_DIR (first build takes a few minutes)"
  local start_ts end_ts
  start_ts="$(date +%s)"

  local mod_json mod_dir
  mod_json="$(GOFLAGS=-mod=mod "$go" mod download -json "$FERRETDB_MODULE@$FERRETDB_VERSION")" \
    || die "go mod download $FERRETDB_MODULE@$FERRETDB_VERSION failed"
  mod_dir="$(printf '%s\n' "$mod_json" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p' | head -n1)"
  [[ -n "$mod_dir" && -d "$mod_dir" ]] || die "could not locate module source (go mod download said: $mod_json)"

  local src
  src="$(mktemp -d "$TMP_BASE/ferretdb-src.XXXXXX")"
  # Both handlers: SQLite (modernc.org/sqlite, pure Go, no cgo needed) for the suite, and
  # PostgreSQL for the reliability tests (see .ci/postgres.sh).
  (
    trap 'rm -rf -- "$src"' EXIT
    cp -R "$mod_dir/." "$src/"
    chmod -R u+w "$src"
    printf '%s\n' "$FERRETDB_VERSION" >"$src/build/version/version.txt"
    printf '%s\n' "intellibrowse-scheduler-ci" >"$src/build/version/package.txt"
    cd "$src"
    CGO_ENABLED=0 "$go" build -trimpath -buildvcs=false \
      -o "$CACHE_DIR/ferretdb.tmp.$$" ./cmd/ferretdb
  ) >&2 || { rm -f "$CACHE_DIR/ferretdb.tmp.$$"; die "go build failed"; }
  mv -f "$CACHE_DIR/ferretdb.tmp.$$" "$BIN"

  binary_ok || die "built binary does not run: $("$BIN" --version 2>&1 | head -n 5)"
  end_ts="$(date +%s)"
  log "built $("$BIN" --version 2>/dev/null | grep -m1 -i version || true) in $((end_ts - start_ts))s"
  echo "$BIN"
}

pick_port() {
  if [[ -n "${FERRETDB_PORT:-}" ]]; then
    echo "$FERRETDB_PORT"
  else
    free_port
  fi
}

port_open() {
  (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

alive() {
  [[ -n "${1:-}" ]] && kill -0 "$1" 2>/dev/null
}

kill_and_wait() {
  local pid="$1" i
  alive "$pid" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 100; i++)); do
    alive "$pid" || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
}

safe_rm_data_dir() {
  local dir="$1"
  case "$dir" in
    */ferretdb-data.*) rm -rf -- "$dir" ;;
    "") ;;
    *) log "not removing unexpected data dir '$dir'" ;;
  esac
}

do_stop() {
  if ! read_state; then
    log "not running (no state file $STATE_FILE)"
    return 0
  fi
  if alive "$WATCHDOG_PID"; then
    kill -TERM "$WATCHDOG_PID" 2>/dev/null || true
  fi
  kill_and_wait "$PID"
  safe_rm_data_dir "$DATA_DIR"
  rm -f -- "$STATE_FILE"
  log "stopped (pid $PID, port $PORT)"
}

do_start() {
  if read_state && [[ -n "$PID" ]]; then
    if alive "$PID"; then
      log "a server from this checkout is still running (pid $PID); stopping it first"
    fi
    do_stop
  fi

  do_build >/dev/null

  local port data_dir
  port="$(pick_port)"
  if port_open "$port"; then
    die "port $port on 127.0.0.1 is already in use (set FERRETDB_PORT to another one)"
  fi
  data_dir="$(mktemp -d "$TMP_BASE/ferretdb-data.XXXXXX")"
  mkdir -p "$data_dir/sqlite"
  local logfile="$data_dir/ferretdb.log"

  local handler="${FERRETDB_HANDLER:-sqlite}" backend_flag
  case "$handler" in
    sqlite) backend_flag="--sqlite-url=file:$data_dir/sqlite/" ;;
    postgresql)
      [[ -n "${FERRETDB_POSTGRESQL_URL:-}" ]] || die "FERRETDB_HANDLER=postgresql needs FERRETDB_POSTGRESQL_URL (bash .ci/postgres.sh start)"
      backend_flag="--postgresql-url=$FERRETDB_POSTGRESQL_URL" ;;
    *) die "FERRETDB_HANDLER must be sqlite or postgresql, not '$handler'" ;;
  esac

  # setsid: own session, so it does not receive the caller's terminal signals;
  # all fds redirected so `$(... start)` returns as soon as this script exits.
  DO_NOT_TRACK=1 setsid "$BIN" \
    --handler="$handler" \
    "$backend_flag" \
    --listen-addr="127.0.0.1:$port" \
    --state-dir="$data_dir" \
    --debug-addr=- \
    --telemetry=disable \
    --log-level="${FERRETDB_LOG_LEVEL:-info}" \
    </dev/null >"$logfile" 2>&1 &
  local pid=$!

  local watchdog_pid=""
  if [[ -n "${FERRETDB_PARENT_PID:-}" ]]; then
    watchdog_pid="$(start_watchdog ferretdb-watchdog "$FERRETDB_PARENT_PID" "$pid" TERM "$data_dir" '*/ferretdb-data.*')"
  fi

  write_state "$pid" "$data_dir" "$port" "$watchdog_pid"

  local deadline=$((SECONDS + ${FERRETDB_START_TIMEOUT:-30}))
  until port_open "$port"; do
    if ! alive "$pid" || ((SECONDS >= deadline)); then
      log "FerretDB did not start listening on 127.0.0.1:$port; log follows:"
      cat "$logfile" >&2 || true
      do_stop || true
      exit 1
    fi
    sleep 0.2
  done

  log "FerretDB $FERRETDB_VERSION ($handler) listening on 127.0.0.1:$port, pid $pid, data $data_dir"
  echo "export MONGODB_URI=mongodb://127.0.0.1:$port/"
}

do_status() {
  if ! read_state; then
    echo "not running" >&2
    return 1
  fi
  cat "$STATE_FILE" >&2
  if alive "$PID"; then
    echo "running" >&2
  else
    echo "dead" >&2
    return 1
  fi
}

do_log() {
  read_state || die "no state file $STATE_FILE"
  cat "$DATA_DIR/ferretdb.log" >&2
}

case "${1:-}" in
  build) do_build ;;
  start) do_start ;;
  stop) do_stop ;;
  status) do_status ;;
  log) do_log ;;
  *)
    echo "usage: $0 build|start|stop|status|log" >&2
    exit 2
    ;;
esac
