#!/usr/bin/env bash
# Builds the readiness probe once into $AWUMETER_LOCAL_DIR/bin and runs it.
set -euo pipefail
. "$(dirname "$0")/env.sh"
bin=$AWUMETER_LOCAL_DIR/bin/probe
src=$repo_root/deploy/local/probe/main.go
if [ ! -x "$bin" ] || [ "$src" -nt "$bin" ]; then
  mkdir -p "$(dirname "$bin")"
  (cd "$repo_root" && go build -o "$bin" ./deploy/local/probe) || die "cannot build the readiness probe"
fi
exec "$bin" "$@"
