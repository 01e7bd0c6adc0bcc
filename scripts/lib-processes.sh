# Shared by the benchmark scripts (sourced): background processes started
# with `cmd & PIDS+=($!)` are stopped newest first on exit (so sidecars
# deregister before the control plane goes), wait_http polls a URL, and
# wait_config waits until a sidecar's routing table lists an address.

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

wait_config() { # admin URL, address the sidecar's /config must list
  local end=$((SECONDS + 20))
  until curl -fsS "$1/config" | grep -q "$2"; do
    [ $SECONDS -lt $end ] || { echo "the sidecar at $1 never learned $2" >&2; exit 1; }
    sleep 0.1
  done
}
