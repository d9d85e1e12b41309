# Shared helpers for the infra/ scripts (sourced, not run).
# Paths: downloads are cached outside the repo (ESCROW_CACHE_DIR); runtime state (data, logs,
# pid files) lives under ESCROW_RUN_DIR, by default .run/ in the repository.

INFRA_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_DIR=$(dirname "$INFRA_DIR")
ESCROW_CACHE_DIR=${ESCROW_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/escrow-streams}
ESCROW_RUN_DIR=${ESCROW_RUN_DIR:-$REPO_DIR/.run}
PYTHON=${PYTHON:-$REPO_DIR/.venv/bin/python}

log() { printf '[%s] %s\n' "$(basename "$0")" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# is_running PIDFILE MARKER: the pid in PIDFILE is alive and its command line contains MARKER
# (guards against a stale pid file whose pid was reused by another program).
is_running() {
  local pid
  [ -f "$1" ] || return 1
  pid=$(cat "$1")
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2"
}

# stop_pid PIDFILE MARKER: SIGTERM (clean shutdown), SIGKILL after 30 s, then remove the pid file.
stop_pid() {
  local pid i
  if is_running "$1" "$2"; then
    pid=$(cat "$1")
    kill -TERM "$pid"
    for i in $(seq 1 300); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -0 "$pid" 2>/dev/null && { log "pid $pid ignored SIGTERM for 30 s; killing"; kill -KILL "$pid"; }
  fi
  rm -f "$1"
}
