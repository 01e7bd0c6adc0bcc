# Shared by the benchmark scripts (sourced): background processes started
# with `cmd & PIDS+=($!)` are stopped newest first on exit (so sidecars
# deregister before the control plane goes), and wait_http polls a URL.

PIDS=()
stop_pids() {
  for ((i=${#PIDS[@]}-1; i>=0; i--)); do
    kill "${PIDS[$i]}" 2>/dev/null || true
    wait "${PIDS[$i]}" 2>/dev/null || true
  done
}

wait_http() { # url, seconds (default 20)
  local end=$((SECONDS + ${2:-20}))
  until curl -fsS -o /dev/null "$1" 2>/dev/null; do
    [ $SECONDS -lt $end ] || { echo "timeout waiting for $1" >&2; exit 1; }
    sleep 0.1
  done
}
