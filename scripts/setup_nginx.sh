#!/usr/bin/env bash
# Debian's nginx for RASA_INSTANCES / ACTION_INSTANCES above 1 (supervisor/load_balancer.py) and the
# tests of it. Only the binary is used: the package's own service is stopped and not started at boot.
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  exit 0
fi
"$(dirname "$0")/apt_install.sh" nginx nginx-light "the load balancer"
service nginx stop >/dev/null 2>&1 || true
update-rc.d nginx disable >/dev/null 2>&1 || true
