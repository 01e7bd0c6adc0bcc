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

# start_app_and_control: the bench echo app (1 KiB answers) on :18080 and
# the control plane on :18700, once it answers ($OUT/bench must be built).
start_app_and_control() {
  "$OUT/bench" echo -listen 127.0.0.1:18080 -size 1024 & PIDS+=($!)
  "$OUT/bench" control -listen 127.0.0.1:18700 -dir "$OUT/run/data" & PIDS+=($!)
  wait_http http://127.0.0.1:18700/healthz
}
