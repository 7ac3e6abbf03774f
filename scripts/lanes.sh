#!/usr/bin/env bash
# Runs lanes side by side: each argument is one lane, make targets run one after another in it
# ("a b": make a, then make b). On 2 cores the test stages leave a core idle (integration averaged one
# busy core of two), so independent targets share the machine instead of waiting for each other.
# Every output line is prefixed with its target. A lane stops at its first failing target; the
# others run to their end, then the script exits 1 if any target failed.
# usage: MAKE=make scripts/lanes.sh "target ..." ["target ..." ...]
set -uo pipefail
make_command=${MAKE:-make}

run_lane() {
  local target status
  for target in $1; do
    $make_command --no-print-directory LANE=1 "$target" 2>&1 | sed -u "s/^/[$target] /"
    status=${PIPESTATUS[0]}
    if [ "$status" -ne 0 ]; then
      echo "[$target] FAILED (exit $status)"
      return 1
    fi
  done
}

pids=()
for lane in "$@"; do
  run_lane "$lane" &
  pids+=("$!")
done
failed=0
for pid in "${pids[@]}"; do
  wait "$pid" || failed=1
done
exit "$failed"
