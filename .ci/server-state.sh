# Shared by .ci/ferretdb.sh and .ci/postgres.sh (sourced, not run): the state file that `start`
# writes for `stop`, and a free port on 127.0.0.1. Callers set STATE_FILE first.

# Reads the state file into PID, DATA_DIR, PORT, WATCHDOG_PID; fails when there is none.
read_state() {
  PID="" DATA_DIR="" PORT="" WATCHDOG_PID=""
  [[ -f "$STATE_FILE" ]] || return 1
  local key value
  while IFS='=' read -r key value; do
    case "$key" in
      PID) PID="$value" ;;
      DATA_DIR) DATA_DIR="$value" ;;
      PORT) PORT="$value" ;;
      WATCHDOG_PID) WATCHDOG_PID="$value" ;;
    esac
  done <"$STATE_FILE"
}

# Writes the state file: write_state PID DATA_DIR PORT WATCHDOG_PID.
write_state() {
  printf 'PID=%s\nDATA_DIR=%s\nPORT=%s\nWATCHDOG_PID=%s\n' "$1" "$2" "$3" "$4" >"$STATE_FILE"
}

# A port free on 127.0.0.1 right now (node, else python3, else 27018).
free_port() {
  local p=""
  if command -v node >/dev/null 2>&1; then
    p="$(node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{process.stdout.write(String(s.address().port));s.close();});" 2>/dev/null || true)"
  fi
  if [[ -z "$p" ]] && command -v python3 >/dev/null 2>&1; then
    p="$(python3 -c "import socket;s=socket.socket();s.bind(('127.0.0.1',0));print(s.getsockname()[1]);s.close()" 2>/dev/null || true)"
  fi
  echo "${p:-27018}"
}

# Starts a watchdog that stops server PID with SIGNAL (then SIGKILL) once PARENT exits, and then
# removes DIR (if it matches DIR_GLOB) and the state file. Prints the watchdog's pid.
#   start_watchdog NAME PARENT PID SIGNAL DIR DIR_GLOB
start_watchdog() {
  setsid bash -c '
    parent=$1 pid=$2 signal=$3 dir=$4 glob=$5 state=$6
    while kill -0 "$parent" 2>/dev/null && kill -0 "$pid" 2>/dev/null; do sleep 2; done
    if kill -0 "$parent" 2>/dev/null; then exit 0; fi   # the server went first: stop cleans up
    if kill -0 "$pid" 2>/dev/null; then
      kill "-$signal" "$pid" 2>/dev/null
      sleep 3
      kill -KILL "$pid" 2>/dev/null
    fi
    case "$dir" in $glob) rm -rf -- "$dir" ;; esac
    rm -f -- "$state"
  ' "$1" "$2" "$3" "$4" "$5" "$6" "$STATE_FILE" </dev/null >/dev/null 2>&1 &
  echo $!
}
