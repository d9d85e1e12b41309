#!/usr/bin/env bash
# A real Apache Kafka broker (KRaft, broker+controller in one JVM) from Maven Central jars, no Docker.
#   broker.sh install   fetch the jars into the cache (mvn dependency:copy-dependencies)
#   broker.sh up        format storage if needed, start, wait until an Admin call succeeds
#   broker.sh down      stop cleanly (SIGTERM, SIGKILL after 30 s)
#   broker.sh status    exit 0 when running
# Idempotent: `up` twice starts one broker; `down` when stopped does nothing.
# Settings (env): KAFKA_PORT (9092), KAFKA_CONTROLLER_PORT (KAFKA_PORT+1), KAFKA_HEAP (512m),
# KAFKA_STATE_DIR ($ESCROW_RUN_DIR/kafka-$KAFKA_PORT), KAFKA_START_TIMEOUT_S (90).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

KAFKA_VERSION=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$INFRA_DIR/kafka/pom.xml")
KAFKA_LIB=$ESCROW_CACHE_DIR/kafka-$KAFKA_VERSION/lib
KAFKA_PORT=${KAFKA_PORT:-9092}
KAFKA_CONTROLLER_PORT=${KAFKA_CONTROLLER_PORT:-$((KAFKA_PORT + 1))}
KAFKA_STATE_DIR=${KAFKA_STATE_DIR:-$ESCROW_RUN_DIR/kafka-$KAFKA_PORT}
KAFKA_HEAP=${KAFKA_HEAP:-512m}
# Fixed cluster id (the apache/kafka image's default): storage is per state dir anyway.
KAFKA_CLUSTER_ID=${KAFKA_CLUSTER_ID:-5L6g3nShT-eMCtK--X86sw}
PIDFILE=$KAFKA_STATE_DIR/broker.pid
# What identifies this broker's java process (several brokers may run side by side).
MARKER=$KAFKA_STATE_DIR/server.properties
BROKER_LOG=$KAFKA_STATE_DIR/logs/broker.out
JAVA_OPTS=(-Xms"$KAFKA_HEAP" -Xmx"$KAFKA_HEAP" -XX:+UseG1GC -XX:+ExitOnOutOfMemoryError -Djava.awt.headless=true)

install() {
  [ -f "$KAFKA_LIB/org.apache.kafka.kafka_2.13-$KAFKA_VERSION.jar" ] && return 0
  log "fetching Apache Kafka $KAFKA_VERSION from Maven Central into $KAFKA_LIB"
  mvn -q -B -f "$INFRA_DIR/kafka/pom.xml" dependency:copy-dependencies -Dkafka.lib="$KAFKA_LIB"
}

write_config() {
  mkdir -p "$KAFKA_STATE_DIR/data" "$KAFKA_STATE_DIR/logs"
  sed -e "s|@PORT@|$KAFKA_PORT|g" -e "s|@CONTROLLER_PORT@|$KAFKA_CONTROLLER_PORT|g" \
      -e "s|@DATA_DIR@|$KAFKA_STATE_DIR/data|g" \
      "$INFRA_DIR/kafka/server.properties.template" >"$KAFKA_STATE_DIR/server.properties"
}

admin_ready() {
  "$PYTHON" - "127.0.0.1:$KAFKA_PORT" <<'PY' 2>/dev/null
import sys
from confluent_kafka.admin import AdminClient
admin = AdminClient({"bootstrap.servers": sys.argv[1]})  # keep a reference: a collected client aborts the call
admin.describe_cluster(request_timeout=2).result(timeout=3)
PY
}

up() {
  if is_running "$PIDFILE" "$MARKER"; then
    log "already running (pid $(cat "$PIDFILE")) on 127.0.0.1:$KAFKA_PORT"
    return 0
  fi
  install
  write_config
  java "${JAVA_OPTS[@]}" -Dlog4j2.configurationFile="$INFRA_DIR/kafka/log4j2-tools.properties" \
    -cp "$KAFKA_LIB/*" kafka.tools.StorageTool format --ignore-formatted \
    -t "$KAFKA_CLUSTER_ID" -c "$KAFKA_STATE_DIR/server.properties" >/dev/null
  local started=$SECONDS
  # setsid: the broker outlives the shell that started it and gets no SIGINT meant for it.
  setsid java "${JAVA_OPTS[@]}" -Dlog4j2.configurationFile="$INFRA_DIR/kafka/log4j2.properties" \
    -Dkafka.logs.dir="$KAFKA_STATE_DIR/logs" -cp "$KAFKA_LIB/*" \
    kafka.Kafka "$KAFKA_STATE_DIR/server.properties" >>"$BROKER_LOG" 2>&1 </dev/null &
  echo $! >"$PIDFILE"
  local deadline=$((SECONDS + ${KAFKA_START_TIMEOUT_S:-90}))
  until admin_ready; do
    if ! is_running "$PIDFILE" "$MARKER"; then
      tail -n 40 "$BROKER_LOG" >&2
      rm -f "$PIDFILE"
      die "broker exited during start-up (log: $BROKER_LOG)"
    fi
    [ $SECONDS -lt "$deadline" ] || { stop_pid "$PIDFILE" "$MARKER"; die "broker not ready in time (log: $BROKER_LOG)"; }
    sleep 0.5
  done
  log "Kafka $KAFKA_VERSION ready on 127.0.0.1:$KAFKA_PORT in $((SECONDS - started)) s (pid $(cat "$PIDFILE"), log $BROKER_LOG)"
}

down() {
  stop_pid "$PIDFILE" "$MARKER"
  log "stopped (127.0.0.1:$KAFKA_PORT)"
}

status() {
  if is_running "$PIDFILE" "$MARKER"; then
    log "running (pid $(cat "$PIDFILE")) on 127.0.0.1:$KAFKA_PORT"
  else
    log "not running (127.0.0.1:$KAFKA_PORT)"
    return 1
  fi
}

case "${1:-}" in
  install | up | down | status) "$1" ;;
  *) die "usage: $0 install|up|down|status" ;;
esac
