#!/usr/bin/env bash
# The local stack: Kafka and ClickHouse on 127.0.0.1, everything under
# $AWUMETER_LOCAL_DIR (default .local/).
#   stack.sh up|down|status|install   (down stops the Collector too if it runs)
#   stack.sh run CMD...   start what is not running, run CMD, then stop only
#                         what this call started (used by make test)
# AWUMETER_STACK_SERVICES picks the services, started in its order and
# stopped in reverse; default "kafka clickhouse". The OpenTelemetry Collector
# is opt-in: AWUMETER_STACK_SERVICES="kafka clickhouse otelcol" make up
# ("collector" is accepted for otelcol; it needs kafka before it).
set -euo pipefail
here=$(dirname "$0")
. "$here/env.sh"

services=()
for s in ${AWUMETER_STACK_SERVICES:-kafka clickhouse}; do
  case "$s" in
    kafka | clickhouse | otelcol) services+=("$s") ;;
    collector) services+=(otelcol) ;;
    *) die "AWUMETER_STACK_SERVICES: unknown service $s (kafka, clickhouse, otelcol)" ;;
  esac
done
reversed=()
for ((i = ${#services[@]} - 1; i >= 0; i--)); do reversed+=("${services[i]}"); done

case "${1:-}" in
  install)
    for s in "${services[@]}"; do "$here/$s.sh" install; done ;;
  up)
    for s in "${services[@]}"; do "$here/$s.sh" start; done
    "$here/stack.sh" status ;;
  down)
    # The opt-in Collector is stopped too when it runs, whatever the list
    # says: `make down` leaves nothing of the stack running.
    case " ${reversed[*]} " in *" otelcol "*) ;; *) "$here/otelcol.sh" stop ;; esac
    for s in "${reversed[@]}"; do "$here/$s.sh" stop; done ;;
  status)
    rc=0
    for s in "${services[@]}"; do "$here/$s.sh" status || rc=1; done
    exit $rc ;;
  run)
    shift
    [ $# -gt 0 ] || die "usage: $0 run CMD..."
    started=()
    for s in "${services[@]}"; do
      if ! "$here/$s.sh" status >/dev/null 2>&1; then started+=("$s"); fi
      "$here/$s.sh" start
    done
    cleanup() { for ((i = ${#started[@]} - 1; i >= 0; i--)); do "$here/${started[i]}.sh" stop || true; done; }
    trap cleanup EXIT
    "$@" ;;
  *) die "usage: $0 up|down|status|install|run CMD..." ;;
esac
