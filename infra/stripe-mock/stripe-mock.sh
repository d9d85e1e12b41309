#!/usr/bin/env bash
# stripe-mock: Stripe's own OpenAPI-driven mock of its API, the server Stripe's SDKs test against.
#   stripe-mock.sh install | up | down | status     (idempotent like infra/kafka/broker.sh)
# Settings (env): STRIPE_MOCK_PORT (12111; HTTPS on the next port).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

STRIPE_MOCK_VERSION=v0.203.0
STRIPE_MOCK_BIN=$ESCROW_CACHE_DIR/stripe-mock@$STRIPE_MOCK_VERSION/stripe-mock
STRIPE_MOCK_PORT=${STRIPE_MOCK_PORT:-12111}
STATE_DIR=$ESCROW_RUN_DIR/stripe-mock-$STRIPE_MOCK_PORT
PIDFILE=$STATE_DIR/stripe-mock.pid
LOGFILE=$STATE_DIR/stripe-mock.log
MARKER="-http-addr 127.0.0.1:$STRIPE_MOCK_PORT"

install() {
  [ -x "$STRIPE_MOCK_BIN" ] && return 0
  log "installing stripe-mock $STRIPE_MOCK_VERSION (go install)"
  GOBIN=$(dirname "$STRIPE_MOCK_BIN") GOFLAGS=-mod=mod go install "github.com/stripe/stripe-mock@$STRIPE_MOCK_VERSION"
}

ready() { curl -fsS -o /dev/null -H 'Authorization: Bearer sk_test_123' "http://127.0.0.1:$STRIPE_MOCK_PORT/v1/balance"; }

up() {
  if is_running "$PIDFILE" "$MARKER"; then
    log "already running (pid $(cat "$PIDFILE")) on 127.0.0.1:$STRIPE_MOCK_PORT"
    return 0
  fi
  install
  mkdir -p "$STATE_DIR"
  setsid "$STRIPE_MOCK_BIN" -http-addr "127.0.0.1:$STRIPE_MOCK_PORT" -https-addr "127.0.0.1:$((STRIPE_MOCK_PORT + 1))" >>"$LOGFILE" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local deadline=$((SECONDS + 30))
  until ready 2>/dev/null; do
    is_running "$PIDFILE" "$MARKER" || { tail -n 20 "$LOGFILE" >&2; rm -f "$PIDFILE"; die "stripe-mock exited (log: $LOGFILE)"; }
    [ $SECONDS -lt "$deadline" ] || { stop_pid "$PIDFILE" "$MARKER"; die "stripe-mock not ready in 30 s"; }
    sleep 0.2
  done
  log "stripe-mock $STRIPE_MOCK_VERSION ready on http://127.0.0.1:$STRIPE_MOCK_PORT (pid $(cat "$PIDFILE"))"
}

down() {
  stop_pid "$PIDFILE" "$MARKER"
  log "stopped (127.0.0.1:$STRIPE_MOCK_PORT)"
}

status() {
  is_running "$PIDFILE" "$MARKER" && log "running on 127.0.0.1:$STRIPE_MOCK_PORT" && return 0
  log "not running (127.0.0.1:$STRIPE_MOCK_PORT)"
  return 1
}

case "${1:-}" in
  install | up | down | status) "$1" ;;
  *) die "usage: $0 install|up|down|status" ;;
esac
