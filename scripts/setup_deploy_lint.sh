#!/usr/bin/env bash
# Debian's docker-compose (1.29, Python) for `make deploy-lint`: `docker-compose config -q` checks
# deploy/compose.yaml offline, without a Docker daemon. The nginx the same tests parse
# deploy/nginx/nginx.conf with comes from scripts/setup_nginx.sh.
set -euo pipefail
"$(dirname "$0")/apt_install.sh" docker-compose docker-compose "the deployment lint"
