#!/usr/bin/env bash
# Debian's nginx for RASA_INSTANCES / ACTION_INSTANCES above 1 (supervisor/load_balancer.py) and the
# scale tests. Does nothing when it is there; installing needs root (CI and this machine run as root).
# Only the binary is used: the package's own service is stopped and disabled.
set -euo pipefail
if command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ERROR: several Rasa processes need Debian's nginx: run 'sudo apt-get install -y nginx-light'." >&2
  exit 1
fi
echo "Installing Debian's nginx for the load balancer"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends nginx-light >/dev/null 2>&1 \
  || { apt-get update -qq && apt-get install -y --no-install-recommends nginx-light >/dev/null; }
service nginx stop >/dev/null 2>&1 || true
update-rc.d nginx disable >/dev/null 2>&1 || true
/usr/sbin/nginx -v
