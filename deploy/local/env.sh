# Shared settings for the local stack. Every value can be overridden from the
# environment, so two stacks can run side by side, e.g.:
#   AWUMETER_LOCAL_DIR=.local2 AWUMETER_KAFKA_PORT=19092 AWUMETER_KAFKA_CONTROLLER_PORT=19093 \
#   AWUMETER_CH_PORT=19000 AWUMETER_CH_HTTP_PORT=18123 make up
# shellcheck shell=bash
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
: "${AWUMETER_LOCAL_DIR:=$repo_root/.local}"
case "$AWUMETER_LOCAL_DIR" in /*) ;; *) AWUMETER_LOCAL_DIR="$repo_root/$AWUMETER_LOCAL_DIR" ;; esac
: "${AWUMETER_KAFKA_PORT:=9092}"
: "${AWUMETER_KAFKA_CONTROLLER_PORT:=9093}"
: "${AWUMETER_KAFKA_VERSION:=4.1.1}"
: "${AWUMETER_KAFKA_HEAP:=-Xms256m -Xmx1g}"
: "${AWUMETER_KAFKA_CLUSTER_ID:=YXd1bWV0ZXItbG9jYWww}"
: "${AWUMETER_CH_PORT:=9000}"
: "${AWUMETER_CH_HTTP_PORT:=8123}"
: "${AWUMETER_START_TIMEOUT:=120}"
# The opt-in OpenTelemetry Collector (otelcol.sh): OTLP ports and the topics it
# writes, created with AWUMETER_OTELCOL_PARTITIONS partitions when missing
# (AWUMETER_OTELCOL_JSON_TOPIC set but empty: no OTLP/JSON copy).
: "${AWUMETER_OTELCOL_HTTP_PORT:=4318}"
: "${AWUMETER_OTELCOL_GRPC_PORT:=4317}"
: "${AWUMETER_OTELCOL_TOPIC:=otlp_spans}"
: "${AWUMETER_OTELCOL_JSON_TOPIC=otlp_spans_json}"
: "${AWUMETER_OTELCOL_PARTITIONS:=4}"
export AWUMETER_LOCAL_DIR AWUMETER_KAFKA_PORT AWUMETER_KAFKA_CONTROLLER_PORT AWUMETER_KAFKA_VERSION \
  AWUMETER_KAFKA_HEAP AWUMETER_KAFKA_CLUSTER_ID AWUMETER_CH_PORT AWUMETER_CH_HTTP_PORT AWUMETER_START_TIMEOUT \
  AWUMETER_OTELCOL_HTTP_PORT AWUMETER_OTELCOL_GRPC_PORT AWUMETER_OTELCOL_TOPIC AWUMETER_OTELCOL_JSON_TOPIC AWUMETER_OTELCOL_PARTITIONS

log() { printf '%s %s\n' "[$(date +%H:%M:%S)]" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# pid_alive FILE: true when FILE names a running process.
pid_alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

# stop_pidfile NAME FILE: TERM, wait up to 30s, then KILL.
stop_pidfile() {
  local name=$1 file=$2 pid i
  pid_alive "$file" || { rm -f "$file"; return 0; }
  pid=$(cat "$file")
  log "stopping $name (pid $pid)"
  kill "$pid" 2>/dev/null || true
  for i in $(seq 1 60); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$file"; return 0; }
    sleep 0.5
  done
  log "$name did not stop in 30s; killing it"
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$file"
}

# apt_install PKG...: installs Debian packages that are missing.
apt_install() {
  local missing=() p
  for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
  [ ${#missing[@]} -eq 0 ] && return 0
  command -v apt-get >/dev/null || die "apt-get not found; install ${missing[*]} yourself"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  log "installing ${missing[*]} with apt-get"
  $sudo apt-get update -qq >/dev/null || die "apt-get update failed"
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null ||
    die "apt-get install ${missing[*]} failed"
}

# accepts PORT: true when something listens on 127.0.0.1:PORT.
accepts() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# foreign_server NAME KIND PORT [PORT...]: when one of the ports is already
# taken by a process this checkout did not start (another checkout's stack),
# says so and returns 0 if the first port answers as KIND: the caller then
# uses that server instead of starting one that could not bind. Dies if a
# port is taken by something else. Returns 1 when every port is free.
foreign_server() {
  local name=$1 kind=$2 port taken=""
  shift 2
  for port in "$@"; do accepts "$port" && taken="$taken $port"; done
  [ -n "$taken" ] || return 1
  "$repo_root/deploy/local/probe.sh" "$kind" "127.0.0.1:$1" >/dev/null 2>&1 ||
    die "127.0.0.1:${taken# } is taken by a process that is not a $name server; free it or set the port variables (see deploy/local/env.sh)"
  log "$name: 127.0.0.1:$1 already answers, started by another checkout or by hand; using it (it is not stopped by this checkout; set the port variables in deploy/local/env.sh to run a $name of its own)"
  return 0
}

# wait_ready NAME PIDFILE LOGDIR KIND ADDR: polls the readiness probe until the
# server answers, failing early with its log tail if the process died.
wait_ready() {
  local name=$1 pidfile=$2 logdir=$3 kind=$4 addr=$5
  local deadline=$((SECONDS + AWUMETER_START_TIMEOUT))
  until "$repo_root/deploy/local/probe.sh" "$kind" "$addr" >/dev/null 2>&1; do
    if ! pid_alive "$pidfile"; then
      tail -n 30 "$logdir"/*.log >&2 2>/dev/null || true
      die "$name exited during start-up; logs in $logdir"
    fi
    [ $SECONDS -lt $deadline ] || die "$name did not answer on $addr within ${AWUMETER_START_TIMEOUT}s; logs in $logdir"
    sleep 1
  done
  log "$name ready on $addr"
}

# clickhouse_server: the command that runs Debian's ClickHouse server.
clickhouse_server() {
  if command -v clickhouse-server >/dev/null; then command -v clickhouse-server
  elif [ -x /usr/bin/clickhouse ]; then echo "/usr/bin/clickhouse server"
  else die "clickhouse-server not found after install"; fi
}

# clickhouse_config DIR TCP_PORT HTTP_PORT USERS_XML [EXTRA_XML]: writes
# DIR/config.xml for a server keeping everything under DIR. EXTRA_XML is
# placed inside <yandex> (cluster, ZooKeeper, macros).
clickhouse_config() {
  local d=$1 tcp=$2 http=$3 users=$4 extra=${5:-}
  mkdir -p "$d/data" "$d/tmp" "$d/user_files" "$d/format_schemas" "$d/logs"
  cat >"$d/config.xml" <<CONF
<?xml version="1.0"?>
<yandex>
    <logger>
        <level>information</level>
        <log>$d/logs/server.log</log>
        <errorlog>$d/logs/server.err.log</errorlog>
        <size>100M</size>
        <count>3</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>$tcp</tcp_port>
    <http_port>$http</http_port>
    <max_connections>1024</max_connections>
    <keep_alive_timeout>3</keep_alive_timeout>
    <max_concurrent_queries>100</max_concurrent_queries>
    <uncompressed_cache_size>268435456</uncompressed_cache_size>
    <mark_cache_size>268435456</mark_cache_size>
    <path>$d/data/</path>
    <tmp_path>$d/tmp/</tmp_path>
    <user_files_path>$d/user_files/</user_files_path>
    <format_schema_path>$d/format_schemas/</format_schema_path>
    <users_config>$users</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <timezone>UTC</timezone>
    <mlock_executable>false</mlock_executable>
    <max_session_timeout>3600</max_session_timeout>
    <default_session_timeout>60</default_session_timeout>
$extra
</yandex>
CONF
}

# clickhouse_users FILE: the default user, no password, loopback only.
clickhouse_users() {
  cat >"$1" <<'CONF'
<?xml version="1.0"?>
<yandex>
    <profiles>
        <default>
            <max_memory_usage>4000000000</max_memory_usage>
            <load_balancing>random</load_balancing>
        </default>
    </profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip><ip>::1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas>
        <default>
            <interval>
                <duration>3600</duration>
                <queries>0</queries>
                <errors>0</errors>
                <result_rows>0</result_rows>
                <read_rows>0</read_rows>
                <execution_time>0</execution_time>
            </interval>
        </default>
    </quotas>
</yandex>
CONF
}
