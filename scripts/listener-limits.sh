#!/usr/bin/env bash
# How registry-adapter's listeners bear clients that abuse their limits
# (issue 17, defects 3 and 4), against a process built at REV (default: the
# working tree), so one run before a fix and one after compare:
#   - 100 connections to the control API and 100 to Eureka, each POSTing a
#     100,000-byte body one byte every 2 s: how many are still held after 70 s;
#   - Nacos auth on, ten concurrent POST /nacos/v1/ns/instance with 10 MiB
#     form bodies and no token: the answers, and the server's RSS before,
#     at its peak and after.
# Takes about 80 s.   Usage: scripts/listener-limits.sh [REV]
set -euo pipefail
cd "$(dirname "$0")/.."
rev=${1:-}
OUT="$(mktemp -d)"
source scripts/lib-processes.sh
trap 'stop_pids; rm -rf "$OUT"' EXIT

if [ -n "$rev" ]; then
  mkdir "$OUT/src"
  git archive "$rev" | tar -x -C "$OUT/src"
  (cd "$OUT/src" && go build -o "$OUT/registry-adapter" ./cmd/registry-adapter)
else
  go build -o "$OUT/registry-adapter" ./cmd/registry-adapter
fi
go build -o "$OUT/limitprobe" ./internal/serve/limitprobe

control=127.0.0.1:${CONTROL_PORT:-28700}
eureka=127.0.0.1:${EUREKA_PORT:-28761}
nacos=127.0.0.1:${NACOS_PORT:-28848} # gRPC on the port + 1000
cat >"$OUT/adapter.yaml" <<EOF
nacos:
  auth:
    enabled: true
    users: {nacos: nacos}
log:
  level: error
EOF
MESHBRIDGE_NACOS_AUTH_SECRET=limits-probe-secret-of-at-least-32-bytes \
  "$OUT/registry-adapter" --config "$OUT/adapter.yaml" --data-dir "$OUT/data" \
  --control-listen "$control" --eureka-listen "$eureka" --nacos-listen "$nacos" --consul-listen= &
PIDS+=($!)
pid=$!
wait_http "http://$control/readyz"

mib() { awk -v k="$1:" '$1 == k { printf "%d MiB", $2 / 1024 }' "/proc/$pid/status"; }

echo "== registry-adapter ${rev:-working tree}: slow bodies (control API and Eureka at once)"
"$OUT/limitprobe" -mode slowbody -url "http://$control/api/v1/instances" -content-type application/json \
  -conns 100 -every 2s -for 70s &
probe=$!
"$OUT/limitprobe" -mode slowbody -url "http://$eureka/eureka/apps/PROBE" -content-type application/json \
  -conns 100 -every 2s -for 70s
wait "$probe"

echo "== Nacos auth on: ten concurrent unauthenticated 10 MiB registrations"
echo "  server RSS before: $(mib VmRSS)"
"$OUT/limitprobe" -mode bigbody -url "http://$nacos/nacos/v1/ns/instance" -conns 10 -bytes 10485760
echo "  server RSS after: $(mib VmRSS), peak since start: $(mib VmHWM)"
