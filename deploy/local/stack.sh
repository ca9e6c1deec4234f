#!/usr/bin/env bash
# The local stack: Kafka and ClickHouse on 127.0.0.1, everything under
# $AWUMETER_LOCAL_DIR (default .local/).
#   stack.sh up|down|status|install
#   stack.sh run CMD...   start what is not running, run CMD, then stop only
#                         what this call started (used by make test)
set -euo pipefail
here=$(dirname "$0")
. "$here/env.sh"

services=(kafka clickhouse)

case "${1:-}" in
  install)
    for s in "${services[@]}"; do "$here/$s.sh" install; done ;;
  up)
    for s in "${services[@]}"; do "$here/$s.sh" start; done
    "$here/stack.sh" status ;;
  down)
    for s in "${services[@]}"; do "$here/$s.sh" stop; done ;;
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
    cleanup() { for s in "${started[@]}"; do "$here/$s.sh" stop || true; done; }
    trap cleanup EXIT
    "$@" ;;
  *) die "usage: $0 up|down|status|install|run CMD..." ;;
esac
