#!/usr/bin/env bash
# ClickHouse server from Debian's clickhouse-server package, with a generated
# config and all data and logs under $AWUMETER_LOCAL_DIR/clickhouse.
#   clickhouse.sh install|start|stop|status
set -euo pipefail
. "$(dirname "$0")/env.sh"

dir=$AWUMETER_LOCAL_DIR/clickhouse
pidfile=$dir/clickhouse.pid

install() {
  apt_install clickhouse-server clickhouse-client
}

write_config() {
  mkdir -p "$dir"
  clickhouse_users "$dir/users.xml"
  clickhouse_config "$dir" "$AWUMETER_CH_PORT" "$AWUMETER_CH_HTTP_PORT" "$dir/users.xml"
}

start() {
  install
  if pid_alive "$pidfile"; then log "clickhouse already running (pid $(cat "$pidfile"))"; ready; return 0; fi
  if foreign_server clickhouse clickhouse "$AWUMETER_CH_PORT" "$AWUMETER_CH_HTTP_PORT"; then return 0; fi
  write_config
  log "starting clickhouse on 127.0.0.1:$AWUMETER_CH_PORT (http $AWUMETER_CH_HTTP_PORT)"
  # shellcheck disable=SC2046
  nohup $(clickhouse_server) --config-file="$dir/config.xml" >"$dir/logs/stdout.log" 2>&1 </dev/null &
  echo $! >"$pidfile"
  ready
}

ready() { wait_ready clickhouse "$pidfile" "$dir/logs" clickhouse "127.0.0.1:$AWUMETER_CH_PORT"; }

status() {
  if pid_alive "$pidfile"; then echo "clickhouse: running (pid $(cat "$pidfile")) on 127.0.0.1:$AWUMETER_CH_PORT, http $AWUMETER_CH_HTTP_PORT"
  elif accepts "$AWUMETER_CH_PORT"; then echo "clickhouse: 127.0.0.1:$AWUMETER_CH_PORT is served by a process this checkout did not start"
  else echo "clickhouse: stopped"; return 1; fi
}

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) stop_pidfile clickhouse "$pidfile" ;;
  status) status ;;
  *) die "usage: $0 install|start|stop|status" ;;
esac
