#!/usr/bin/env bash
# Debian's docker-compose (1.29, Python) for `make deploy-lint`: `docker-compose config -q` checks
# deploy/compose.yaml offline, without a Docker daemon. Does nothing when it is there; installing
# needs root (CI and this machine run as root). The nginx the same tests parse deploy/nginx/nginx.conf
# with comes from scripts/setup_nginx.sh.
set -euo pipefail
if command -v docker-compose >/dev/null 2>&1; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ERROR: the deployment lint needs Debian's docker-compose: run 'sudo apt-get install -y docker-compose'." >&2
  exit 1
fi
echo "Installing Debian's docker-compose for the deployment lint"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends docker-compose >/dev/null 2>&1 \
  || { apt-get update -qq && apt-get install -y --no-install-recommends docker-compose >/dev/null; }
docker-compose version --short
