#!/usr/bin/env bash
# One of Debian's packages, installed when its command is missing; nothing happens when it is there.
# usage: scripts/apt_install.sh COMMAND PACKAGE "what needs it"
# Installing needs root (CI and this machine run as root); without it the command to run is printed.
set -euo pipefail
command=$1
package=$2
purpose=$3
if command -v "$command" >/dev/null 2>&1 || [ -x "/usr/sbin/$command" ]; then
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ERROR: $purpose needs Debian's $package: run 'sudo apt-get install -y $package'." >&2
  exit 1
fi
echo "Installing Debian's $package for $purpose"
export DEBIAN_FRONTEND=noninteractive
apt-get install -y --no-install-recommends "$package" >/dev/null 2>&1 \
  || { apt-get update -qq && apt-get install -y --no-install-recommends "$package" >/dev/null; }
