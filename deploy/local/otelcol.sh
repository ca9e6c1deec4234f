#!/usr/bin/env bash
# A real OpenTelemetry Collector beside the local Kafka: OTLP in (HTTP and
# gRPC on 127.0.0.1), batch, the contrib Kafka exporter out. The binary is
# built from the Collector's Go modules by the nested module in
# deploy/local/otelcol (versions pinned in its go.mod), into
# $AWUMETER_LOCAL_DIR/otelcol/otelcol-<hash of go.mod, go.sum, main.go>, so a
# changed distribution is rebuilt and an unchanged one never is.
#   otelcol.sh install|start|stop|status
#
# It is not one of the stack's default services: start it on its own, or with
# AWUMETER_STACK_SERVICES="kafka clickhouse otelcol" make up.
#
# start creates its topics when they are missing ($AWUMETER_OTELCOL_PARTITIONS
# partitions, default 4), since the local broker does not create topics on
# first use. Spans sent while a topic is missing stay in the exporter's
# queue, retried, and are dropped when retries run out (the collector's log
# says so).
set -euo pipefail
. "$(dirname "$0")/env.sh"

dir=$AWUMETER_LOCAL_DIR/otelcol
src=$repo_root/deploy/local/otelcol
pidfile=$dir/otelcol.pid
conf=$dir/config.yaml

# binary: the path of the build for the current go.mod, go.sum and main.go
# (internal/testenv computes the same name).
binary() {
  local h
  h=$(cat "$src/go.mod" "$src/go.sum" "$src/main.go" | sha256sum | cut -c1-12)
  echo "$dir/otelcol-$h"
}

install() {
  local bin
  bin=$(binary)
  if [ -x "$bin" ]; then ln -sfn "$(basename "$bin")" "$dir/otelcol"; return 0; fi
  command -v go >/dev/null || die "go not found: the collector is built from Go modules"
  mkdir -p "$dir"
  log "building the OpenTelemetry Collector into $bin (first build: a few minutes, about 70 MB of modules)"
  local t0=$SECONDS
  (cd "$src" && GOWORK=off go build -trimpath -buildvcs=false -ldflags='-s -w' -o "$bin.tmp" .) >"$dir/build.log" 2>&1 ||
    { cat "$dir/build.log" >&2; rm -f "$bin.tmp"; die "the collector did not build; log in $dir/build.log"; }
  mv "$bin.tmp" "$bin"
  # Older builds are of no use once the source changed.
  find "$dir" -maxdepth 1 -name 'otelcol-*' ! -name "$(basename "$bin")" -delete
  ln -sfn "$(basename "$bin")" "$dir/otelcol"
  log "collector built in $((SECONDS - t0))s ($(du -h "$bin" | cut -f1))"
}

# write_config: one OTLP receiver feeds one traces pipeline whose two Kafka
# exporters write every batch twice, once per encoding, so either topic can
# be metered (kafka.topics[i].format otlp_proto or otlp_json; read only one
# of them per tenant, or both: the spans' event ids are equal, so the second
# copy is deduplicated). AWUMETER_OTELCOL_JSON_TOPIC= (empty) drops the JSON
# copy.
write_config() {
  mkdir -p "$dir/logs"
  local json_exporter="" json_ref=""
  if [ -n "$AWUMETER_OTELCOL_JSON_TOPIC" ]; then
    json_ref=", kafka/json"
    json_exporter="
  kafka/json:
    brokers: [127.0.0.1:$AWUMETER_KAFKA_PORT]
    traces:
      topic: $AWUMETER_OTELCOL_JSON_TOPIC
      encoding: otlp_json
    partition_traces_by_id: true
    producer:
      allow_auto_topic_creation: false"
  fi
  cat >"$conf" <<CONF
# Written by deploy/local/otelcol.sh start; edits are overwritten.
receivers:
  otlp:
    protocols:
      http:                       # POST /v1/traces, protobuf or JSON
        endpoint: 127.0.0.1:$AWUMETER_OTELCOL_HTTP_PORT
      grpc:
        endpoint: 127.0.0.1:$AWUMETER_OTELCOL_GRPC_PORT

processors:
  batch:                          # up to 8192 spans or 1s, whichever first
    timeout: 1s

exporters:
  # The contrib Kafka exporter (franz-go). Keys: brokers, traces.topic,
  # traces.encoding (otlp_proto is its default), partition_traces_by_id (key
  # each record by its trace id, one record per trace, so a trace stays on
  # one partition; without it records are unkeyed and the default sticky
  # partitioner keeps filling one partition per batch), producer.*.
  kafka/proto:
    brokers: [127.0.0.1:$AWUMETER_KAFKA_PORT]
    traces:
      topic: $AWUMETER_OTELCOL_TOPIC
      encoding: otlp_proto
    partition_traces_by_id: true
    producer:
      allow_auto_topic_creation: false$json_exporter

service:
  telemetry:
    metrics:
      level: none                 # no :8888 listener beside the stack
    logs:
      level: info
  pipelines:
    traces:
      receivers: [otlp]
      processors: [batch]
      exporters: [kafka/proto$json_ref]
CONF
}

start() {
  install
  if pid_alive "$pidfile"; then log "otelcol already running (pid $(cat "$pidfile"))"; ready; return 0; fi
  ! accepts "$AWUMETER_OTELCOL_HTTP_PORT" || die "127.0.0.1:$AWUMETER_OTELCOL_HTTP_PORT is taken by another process (set AWUMETER_OTELCOL_HTTP_PORT)"
  write_config
  # shellcheck disable=SC2086
  "$repo_root/deploy/local/probe.sh" topics "127.0.0.1:$AWUMETER_KAFKA_PORT" "$AWUMETER_OTELCOL_PARTITIONS" \
    "$AWUMETER_OTELCOL_TOPIC" $AWUMETER_OTELCOL_JSON_TOPIC >&2 ||
    die "cannot create the topics $AWUMETER_OTELCOL_TOPIC $AWUMETER_OTELCOL_JSON_TOPIC (is Kafka running on 127.0.0.1:$AWUMETER_KAFKA_PORT?)"
  log "starting otelcol: OTLP/HTTP 127.0.0.1:$AWUMETER_OTELCOL_HTTP_PORT, gRPC :$AWUMETER_OTELCOL_GRPC_PORT -> kafka 127.0.0.1:$AWUMETER_KAFKA_PORT topics $AWUMETER_OTELCOL_TOPIC${AWUMETER_OTELCOL_JSON_TOPIC:+ $AWUMETER_OTELCOL_JSON_TOPIC}"
  nohup "$(binary)" --config "$conf" >>"$dir/logs/collector.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  ready
}

# ready: the collector opens its receivers after its exporters started, so
# an accepting OTLP/HTTP port means the whole pipeline is up.
ready() {
  local deadline=$((SECONDS + AWUMETER_START_TIMEOUT))
  until accepts "$AWUMETER_OTELCOL_HTTP_PORT"; do
    if ! pid_alive "$pidfile"; then
      tail -n 30 "$dir/logs/collector.log" >&2 2>/dev/null || true
      die "otelcol exited during start-up; logs in $dir/logs"
    fi
    [ $SECONDS -lt $deadline ] || die "otelcol did not listen on 127.0.0.1:$AWUMETER_OTELCOL_HTTP_PORT within ${AWUMETER_START_TIMEOUT}s; logs in $dir/logs"
    sleep 0.2
  done
  log "otelcol ready on 127.0.0.1:$AWUMETER_OTELCOL_HTTP_PORT"
}

status() {
  if pid_alive "$pidfile"; then echo "otelcol: running (pid $(cat "$pidfile")) on 127.0.0.1:$AWUMETER_OTELCOL_HTTP_PORT (http), :$AWUMETER_OTELCOL_GRPC_PORT (grpc)"; else echo "otelcol: stopped"; return 1; fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop_pidfile otelcol "$pidfile" ;;
  status) status ;;
  *) die "usage: $0 install|start|stop|status" ;;
esac
