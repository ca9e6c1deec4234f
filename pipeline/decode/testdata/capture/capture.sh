#!/usr/bin/env bash
# Captures the OTLP records of real GenAI instrumentation libraries, one
# file per library release, into this directory: NAME.b64, one protobuf
# ExportTraceServiceRequest in base64 (see capture.py). Each runs in its own
# virtualenv under ${AWUMETER_LOCAL_DIR:-.local}/capture with the pinned
# packages of requirements-NAME.txt, from PyPI.
#
#   pipeline/decode/testdata/capture/capture.sh [NAME...]
#
# A new capture has new trace ids and times: update NAME.expected.json
# (the events each record must decode to) by hand, from what the library
# reports, and review the diff.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../../../.." && pwd)
venvs=${AWUMETER_LOCAL_DIR:-$repo/.local}/capture
# NAME -> the convention whose instrumentation capture.py loads.
declare -A profile=([otel-genai]=otel-genai [openinference]=openinference [openllmetry]=openllmetry [openllmetry-0.38]=openllmetry)
names=("$@")
[ ${#names[@]} -gt 0 ] || names=(otel-genai openinference openllmetry openllmetry-0.38)
for name in "${names[@]}"; do
  [ -n "${profile[$name]:-}" ] || { echo "unknown capture $name; known: ${!profile[*]}" >&2; exit 2; }
  venv=$venvs/$name
  if [ ! -x "$venv/bin/python" ] || ! cmp -s "$here/requirements-$name.txt" "$venv/requirements.txt"; then
    echo "installing requirements-$name.txt into $venv" >&2
    rm -rf "$venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet --disable-pip-version-check -r "$here/requirements-$name.txt"
    cp "$here/requirements-$name.txt" "$venv/requirements.txt"
  fi
  echo "capturing $name" >&2
  "$venv/bin/python" "$here/capture.py" "${profile[$name]}" "$here/$name.b64"
done
