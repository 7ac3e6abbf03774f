#!/usr/bin/env bash
# Starts the action server and the Rasa server (REST channel) on embedded defaults and
# stops them all on Ctrl-C / SIGTERM, or as soon as one of them exits.
# Settings (environment): RASA_PORT, ACTION_PORT, RUN_DIR, MODEL_PATH, TRACKER_DB.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

export RASA_PORT=${RASA_PORT:-5005}
export ACTION_PORT=${ACTION_PORT:-5055}
export RUN_DIR=${RUN_DIR:-$root/.run}
export MODEL_PATH=${MODEL_PATH:-$root/models}
export ACTION_ENDPOINT_URL=${ACTION_ENDPOINT_URL:-http://127.0.0.1:$ACTION_PORT/webhook}
export TRACKER_DB_DIALECT=${TRACKER_DB_DIALECT:-sqlite}
export TRACKER_DB=${TRACKER_DB:-$RUN_DIR/tracker.db}
export PYTHONPATH=$root
export TF_CPP_MIN_LOG_LEVEL=${TF_CPP_MIN_LOG_LEVEL:-2}
mkdir -p "$RUN_DIR"

if ! ls "$MODEL_PATH"/*.tar.gz >/dev/null 2>&1 && [ ! -f "$MODEL_PATH" ]; then
  echo "No trained model in $MODEL_PATH: run 'make train' (or 'make run', which trains first)." >&2
  exit 1
fi

pids=()
announcer=""
stop_all() {
  trap - INT TERM EXIT
  [ -n "$announcer" ] && kill "$announcer" 2>/dev/null || true
  if [ ${#pids[@]} -gt 0 ]; then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait "${pids[@]}" 2>/dev/null || true
  fi
  echo "TanyaVaksin stopped."
}
trap stop_all INT TERM EXIT

.venvs/actions/bin/python -m rasa_sdk --actions actions --port "$ACTION_PORT" &
pids+=($!)

.venvs/rasa/bin/rasa run --model "$MODEL_PATH" --port "$RASA_PORT" \
  --endpoints rasa_project/endpoints.yml --credentials rasa_project/credentials.yml &
pids+=($!)

(
  for _ in $(seq 1 240); do
    if curl -sf "http://127.0.0.1:$RASA_PORT/" >/dev/null 2>&1; then
      echo "TanyaVaksin is up: POST http://localhost:$RASA_PORT/webhooks/rest/webhook (Ctrl-C stops it)"
      exit 0
    fi
    sleep 1
  done
) &
announcer=$!

# Whichever server exits first takes the others down with it.
wait -n "${pids[@]}"
