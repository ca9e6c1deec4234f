#!/usr/bin/env bash
# Installs chDB (an embedded current ClickHouse, from PyPI) into
# $AWUMETER_LOCAL_DIR/venv. The ClickHouse tests use it to check the modern
# schema branch and the query pack on a current engine, next to the Debian
# 18.16 server. Idempotent: does nothing when chdb already imports.
#   install-chdb.sh
set -euo pipefail
. "$(dirname "$0")/env.sh"

: "${AWUMETER_CHDB_VERSION:=4.4.0}"
venv=$AWUMETER_LOCAL_DIR/venv

if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c 'import chdb' 2>/dev/null; then
  log "chdb already installed in $venv"
  exit 0
fi
command -v python3 >/dev/null || die "python3 is needed to install chdb"
mkdir -p "$AWUMETER_LOCAL_DIR"
if ! python3 -m venv "$venv" 2>/dev/null; then
  apt_install python3-venv
  python3 -m venv "$venv"
fi
log "installing chdb $AWUMETER_CHDB_VERSION into $venv"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check "chdb==$AWUMETER_CHDB_VERSION"
"$venv/bin/python" -c 'import chdb; print("chdb", chdb.__version__, "embeds ClickHouse", chdb.query("SELECT version()", "CSV").bytes().decode().strip())'
