# Shared by the benchmark scripts (sourced): background processes started
# with `cmd & PIDS+=($!)` are stopped newest first on exit (so sidecars
# deregister before the control plane goes), wait_http polls a URL,
# wait_config waits until a sidecar's routing table lists an address,
# build_sidecar builds a sidecar (and the header-injector) at a git
# revision, and start_app_and_control starts the echo app and the control
# plane every benchmark stands on. The last two use $OUT.

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

# build_sidecar REV NAME [plugin]: cmd/sidecar at git revision REV (the
# working tree when REV is empty) as $OUT/sidecar-NAME, and with "plugin"
# the header-injector example as $OUT/plugin-NAME.
build_sidecar() {
  local rev=$1 name=$2 src=.
  if [ -n "$rev" ]; then
    src="$OUT/$name-src"
    rm -rf "$src"
    git worktree add -f --detach "$src" "$rev" >/dev/null 2>&1
  fi
  (cd "$src" && go build -o "$OUT/sidecar-$name" ./cmd/sidecar)
  [ "${3:-}" != plugin ] || (cd "$src/plugins/examples" && go build -o "$OUT/plugin-$name" ./header-injector)
  [ -z "$rev" ] || git worktree remove --force "$src"
}

# start_app_and_control [APP_PORT CONTROL_PORT]: the bench echo app (1 KiB
# answers) on :18080 and the control plane on :18700 (or the given ports),
# once it answers ($OUT/bench must be built). It fails when either could
# not listen: another process on the port would stand in for it unseen.
start_app_and_control() {
  local app=${1:-18080} control=${2:-18700} app_pid control_pid
  "$OUT/bench" echo -listen "127.0.0.1:$app" -size 1024 & app_pid=$!; PIDS+=($app_pid)
  "$OUT/bench" control -listen "127.0.0.1:$control" -dir "$OUT/run/data" & control_pid=$!; PIDS+=($control_pid)
  wait_http "http://127.0.0.1:$control/healthz"
  kill -0 "$app_pid" 2>/dev/null && kill -0 "$control_pid" 2>/dev/null ||
    { echo "the echo app or the control plane could not start (port $app or $control taken?)" >&2; exit 1; }
}
