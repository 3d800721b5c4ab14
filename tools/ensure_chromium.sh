#!/usr/bin/env bash
# Make sure Debian's chromium is installed for the Playwright browser tests (Playwright's own
# browser download does not work on these machines). Idempotent and quiet: does nothing when
# /usr/bin/chromium exists; otherwise installs the `chromium` package with apt-get.
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO="sudo -n"; else
    echo "ensure_chromium: /usr/bin/chromium is missing and we are not root; install the Debian package 'chromium'" >&2
    exit 1
  fi
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends chromium >/dev/null
test -x /usr/bin/chromium || { echo "ensure_chromium: chromium did not install" >&2; exit 1; }
