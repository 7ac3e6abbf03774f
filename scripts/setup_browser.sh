#!/usr/bin/env bash
# Debian's Chromium for the browser tests (Playwright drives it; no browser is ever downloaded).
set -euo pipefail
"$(dirname "$0")/apt_install.sh" chromium chromium "the browser tests"
