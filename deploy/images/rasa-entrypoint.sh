#!/bin/sh
# Starts `rasa` with the given arguments and the HTTP API token from RASA_API_TOKEN.
# With --enable-api and an empty token, Rasa's HTTP API (replace the model, write into any
# conversation) is open to anyone who reaches the port: refuse to start instead, and say why.
set -eu
if [ -z "${RASA_API_TOKEN:-}" ]; then
  echo "RASA_API_TOKEN is empty: set it (compose: .env; Kubernetes: the tanyavaksin-secrets Secret)." >&2
  exit 64
fi
# One argument: a token starting with "-" (1 in 64 of generated ones) is not read as an option.
exec rasa "$@" "--auth-token=$RASA_API_TOKEN"
