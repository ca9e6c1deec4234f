#!/usr/bin/env bash
# A local two-node ClickHouse cluster for the cluster variant of the schema:
# one ZooKeeper (Debian's zookeeper package) and two clickhouse-server
# processes (Debian's 18.16), as two shards of one replica each, in the
# cluster "awumeter_cluster". Everything lives under
# $AWUMETER_LOCAL_DIR/cluster, on ports apart from the single-node stack.
#   cluster.sh install|start|stop|status
#   cluster.sh run CMD...   start what is not running, run CMD with
#                           AWUMETER_CLUSTER_ADDRS and AWUMETER_CLUSTER_NAME
#                           set, then stop what this call started
set -euo pipefail
. "$(dirname "$0")/env.sh"

: "${AWUMETER_CLUSTER_ZK_PORT:=12181}"
: "${AWUMETER_CLUSTER_PORT_BASE:=19100}" # node N: native base+N, http base+100+N, interserver base+200+N
dir=$AWUMETER_LOCAL_DIR/cluster
name=awumeter_cluster
nodes=(1 2)

native_port() { echo $((AWUMETER_CLUSTER_PORT_BASE + $1)); }
http_port() { echo $((AWUMETER_CLUSTER_PORT_BASE + 100 + $1)); }
interserver_port() { echo $((AWUMETER_CLUSTER_PORT_BASE + 200 + $1)); }

install() {
  apt_install clickhouse-server clickhouse-client zookeeper
}

start_zookeeper() {
  local zk=$dir/zookeeper
  if pid_alive "$zk/pid"; then return 0; fi
  mkdir -p "$zk/data" "$zk/conf"
  cat >"$zk/conf/zoo.cfg" <<CONF
tickTime=2000
initLimit=10
syncLimit=5
dataDir=$zk/data
clientPort=$AWUMETER_CLUSTER_ZK_PORT
clientPortAddress=127.0.0.1
admin.enableServer=false
4lw.commands.whitelist=ruok,srvr
CONF
  cp /etc/zookeeper/conf_example/log4j.properties "$zk/conf/" 2>/dev/null || true
  log "starting zookeeper on 127.0.0.1:$AWUMETER_CLUSTER_ZK_PORT"
  nohup java -Xmx256m -Dzookeeper.log.dir="$zk" -Dzookeeper.root.logger=INFO,CONSOLE \
    -cp "$zk/conf:/usr/share/java/zookeeper.jar" org.apache.zookeeper.server.ZooKeeperServerMain "$zk/conf/zoo.cfg" \
    >"$zk/zookeeper.log" 2>&1 </dev/null &
  echo $! >"$zk/pid"
  local deadline=$((SECONDS + AWUMETER_START_TIMEOUT))
  # "srvr" reports a Mode only once ZooKeeper serves sessions ("ruok" answers earlier).
  until (exec 3<>/dev/tcp/127.0.0.1/"$AWUMETER_CLUSTER_ZK_PORT" && printf srvr >&3 && timeout 2 cat <&3) 2>/dev/null | grep -q '^Mode:'; do
    pid_alive "$zk/pid" || { tail -n 30 "$zk/zookeeper.log" >&2; die "zookeeper exited during start-up"; }
    [ $SECONDS -lt $deadline ] || die "zookeeper did not answer within ${AWUMETER_START_TIMEOUT}s; log in $zk/zookeeper.log"
    sleep 1
  done
}

remote_servers() {
  local n
  for n in "${nodes[@]}"; do
    printf '            <shard><internal_replication>true</internal_replication><replica><host>127.0.0.1</host><port>%s</port></replica></shard>\n' "$(native_port "$n")"
  done
}

write_node_config() {
  local n=$1
  clickhouse_config "$dir/node$n" "$(native_port "$n")" "$(http_port "$n")" "$dir/users.xml" "\
    <interserver_http_port>$(interserver_port "$n")</interserver_http_port>
    <interserver_http_host>127.0.0.1</interserver_http_host>
    <remote_servers>
        <$name>
$(remote_servers)
        </$name>
    </remote_servers>
    <zookeeper>
        <node><host>127.0.0.1</host><port>$AWUMETER_CLUSTER_ZK_PORT</port></node>
    </zookeeper>
    <macros>
        <shard>0$n</shard>
        <replica>node$n</replica>
    </macros>
    <distributed_ddl>
        <path>/clickhouse/task_queue/ddl</path>
    </distributed_ddl>"
}

start_node() {
  local n=$1 d=$dir/node$1
  if pid_alive "$d/pid"; then return 0; fi
  write_node_config "$n"
  log "starting clickhouse node$n on 127.0.0.1:$(native_port "$n")"
  # shellcheck disable=SC2046
  nohup $(clickhouse_server) --config-file="$d/config.xml" >"$d/logs/stdout.log" 2>&1 </dev/null &
  echo $! >"$d/pid"
}

wait_node() {
  wait_ready "clickhouse node$1" "$dir/node$1/pid" "$dir/node$1/logs" clickhouse "127.0.0.1:$(native_port "$1")"
}

addrs() {
  local n out=()
  for n in "${nodes[@]}"; do out+=("127.0.0.1:$(native_port "$n")"); done
  (IFS=,; echo "${out[*]}")
}

start() {
  install
  mkdir -p "$dir"
  clickhouse_users "$dir/users.xml"
  start_zookeeper
  local n
  for n in "${nodes[@]}"; do start_node "$n"; done
  for n in "${nodes[@]}"; do wait_node "$n"; done
  log "cluster $name ready: $(addrs), zookeeper 127.0.0.1:$AWUMETER_CLUSTER_ZK_PORT"
}

stop() {
  local n
  for n in "${nodes[@]}"; do stop_pidfile "clickhouse node$n" "$dir/node$n/pid"; done
  stop_pidfile zookeeper "$dir/zookeeper/pid"
}

status() {
  local rc=0 n
  if pid_alive "$dir/zookeeper/pid"; then echo "zookeeper: running on 127.0.0.1:$AWUMETER_CLUSTER_ZK_PORT"; else echo "zookeeper: stopped"; rc=1; fi
  for n in "${nodes[@]}"; do
    if pid_alive "$dir/node$n/pid"; then echo "clickhouse node$n: running on 127.0.0.1:$(native_port "$n")"; else echo "clickhouse node$n: stopped"; rc=1; fi
  done
  return $rc
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop ;;
  status) status ;;
  run)
    shift
    [ $# -gt 0 ] || die "usage: $0 run CMD..."
    was_running=0
    status >/dev/null 2>&1 && was_running=1
    start
    [ $was_running = 1 ] || trap stop EXIT
    AWUMETER_CLUSTER_ADDRS=$(addrs) AWUMETER_CLUSTER_NAME=$name "$@" ;;
  *) die "usage: $0 install|start|stop|status|run CMD..." ;;
esac
