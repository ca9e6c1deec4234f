#!/usr/bin/env bash
# Single-node Apache Kafka 4 (KRaft, combined broker+controller) on 127.0.0.1,
# from Maven Central jars, with data and logs under $AWUMETER_LOCAL_DIR/kafka.
#   kafka.sh install|start|stop|status
set -euo pipefail
. "$(dirname "$0")/env.sh"

dir=$AWUMETER_LOCAL_DIR/kafka
libs=$dir/libs-$AWUMETER_KAFKA_VERSION
pidfile=$dir/kafka.pid
conf=$dir/server.properties

install() {
  if [ -f "$libs/.complete" ]; then return 0; fi
  command -v java >/dev/null || die "java not found: Kafka needs Java 17 or later"
  command -v mvn >/dev/null || die "mvn not found: it fetches the Kafka jars from Maven Central"
  log "fetching Kafka $AWUMETER_KAFKA_VERSION jars from Maven Central"
  rm -rf "$libs"
  mkdir -p "$dir"
  mvn -q -B -f "$repo_root/deploy/local/kafka/pom.xml" -Dkafka.version="$AWUMETER_KAFKA_VERSION" \
    dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$libs" >"$dir/mvn.log" 2>&1 ||
    { cat "$dir/mvn.log" >&2; die "mvn could not fetch the Kafka jars"; }
  touch "$libs/.complete"
}

write_config() {
  mkdir -p "$dir/data" "$dir/logs"
  cat >"$conf" <<CONF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$AWUMETER_KAFKA_CONTROLLER_PORT
listeners=PLAINTEXT://127.0.0.1:$AWUMETER_KAFKA_PORT,CONTROLLER://127.0.0.1:$AWUMETER_KAFKA_CONTROLLER_PORT
advertised.listeners=PLAINTEXT://127.0.0.1:$AWUMETER_KAFKA_PORT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=$dir/data
num.partitions=4
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=8
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
group.initial.rebalance.delay.ms=0
delete.topic.enable=true
log.retention.hours=-1
CONF
  cat >"$dir/log4j2.yaml" <<CONF
Configuration:
  Appenders:
    RollingFile:
      name: file
      fileName: "$dir/logs/server.log"
      filePattern: "$dir/logs/server.log.%i"
      PatternLayout: {pattern: "[%d] %p %m (%c)%n"}
      Policies: {SizeBasedTriggeringPolicy: {size: 50MB}}
      DefaultRolloverStrategy: {max: 3}
  Loggers:
    Root:
      level: INFO
      AppenderRef: [{ref: file}]
CONF
}

java_run() {
  # shellcheck disable=SC2086
  java $AWUMETER_KAFKA_HEAP -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile="$dir/log4j2.yaml" -cp "$libs/*" "$@"
}

start() {
  install
  if pid_alive "$pidfile"; then log "kafka already running (pid $(cat "$pidfile"))"; ready; return 0; fi
  if foreign_server kafka kafka "$AWUMETER_KAFKA_PORT" "$AWUMETER_KAFKA_CONTROLLER_PORT"; then return 0; fi
  write_config
  if [ ! -f "$dir/data/meta.properties" ]; then
    log "formatting Kafka storage (cluster id $AWUMETER_KAFKA_CLUSTER_ID)"
    java_run kafka.tools.StorageTool format -t "$AWUMETER_KAFKA_CLUSTER_ID" -c "$conf" >"$dir/logs/format.log" 2>&1 ||
      { cat "$dir/logs/format.log" >&2; die "kafka storage format failed"; }
  fi
  log "starting kafka on 127.0.0.1:$AWUMETER_KAFKA_PORT"
  nohup bash -c "exec java $AWUMETER_KAFKA_HEAP -XX:+UseG1GC -Djava.awt.headless=true \
    -Dlog4j2.configurationFile='$dir/log4j2.yaml' -cp '$libs/*' kafka.Kafka '$conf'" \
    >"$dir/logs/stdout.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  ready
}

ready() { wait_ready kafka "$pidfile" "$dir/logs" kafka "127.0.0.1:$AWUMETER_KAFKA_PORT"; }

status() {
  if pid_alive "$pidfile"; then echo "kafka: running (pid $(cat "$pidfile")) on 127.0.0.1:$AWUMETER_KAFKA_PORT"
  elif accepts "$AWUMETER_KAFKA_PORT"; then echo "kafka: 127.0.0.1:$AWUMETER_KAFKA_PORT is served by a process this checkout did not start"
  else echo "kafka: stopped"; return 1; fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop_pidfile kafka "$pidfile" ;;
  status) status ;;
  *) die "usage: $0 install|start|stop|status" ;;
esac
