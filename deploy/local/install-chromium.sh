#!/usr/bin/env bash
# Installs Debian's Chromium (package chromium) for the report's browser
# test, which loads a generated report headless and checks that it renders
# with no console errors and no network requests. Idempotent: does nothing
# when /usr/bin/chromium runs. AWUMETER_CHROMIUM names another binary.
#   install-chromium.sh
set -euo pipefail
. "$(dirname "$0")/env.sh"

bin=${AWUMETER_CHROMIUM:-/usr/bin/chromium}
if [ -x "$bin" ] && "$bin" --version >/dev/null 2>&1; then
  log "$("$bin" --version 2>/dev/null) already installed"
  exit 0
fi
[ -z "${AWUMETER_CHROMIUM:-}" ] || die "AWUMETER_CHROMIUM=$bin does not run"
apt_install chromium fonts-dejavu-core
"$bin" --version
