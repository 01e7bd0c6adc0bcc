#!/usr/bin/env bash
# A/B comparison of two sidecar builds: the working tree (B) against a git
# revision (A, default HEAD). Both pairs (egress -> ingress -> one echo
# app) run side by side and take turns under closed-loop load, so machine
# noise falls on both alike; the summary gives each build's median CPU
# per request (the figure that decides throughput on a full machine) and
# requests/s, and the per-round ratio B/A.
#
# Usage: A=main scripts/ab-sidecar.sh     (ROUNDS=8 DUR=8s CONNS=32 RATE=max)
# The two pairs take turns every BLOCK (2s) within each round, and DUR
# is the round's, shared by the two. RATE=4000 runs an open loop at that
# rate instead: CPU per request at a fixed rate varies less from round to
# round than at saturation, where batching changes with the machine's
# mood.
# A_ENV and B_ENV add environment variables to one build's sidecars
# (B_ENV=GOMAXPROCS=1).
# METHOD=GET sends bodiless GETs instead of POSTs with 1 KiB bodies.
set -euo pipefail
cd "$(dirname "$0")/.."
A="${A:-HEAD}"
ROUNDS="${ROUNDS:-8}"
DUR="${DUR:-8s}"
CONNS="${CONNS:-32}"
RATE="${RATE:-max}"
METHOD="${METHOD:-POST}"
BLOCK="${BLOCK:-2s}"
if [ "$RATE" = max ]; then MODE=(-max -conns "$CONNS"); else MODE=(-qps "$RATE"); fi
OUT="$(mkdir -p tmp/ab-sidecar && cd tmp/ab-sidecar && pwd)"
rm -rf "$OUT/run" && mkdir -p "$OUT/run"

echo "== building A ($A) and B (working tree)" >&2
# shellcheck source=scripts/lib-processes.sh
. scripts/lib-processes.sh
build_sidecar "$A" a
build_sidecar "" b
go build -o "$OUT/bench" ./tools/sidecarbench

trap stop_pids EXIT
start_app_and_control

# pair NAME BASEPORT: a server sidecar registering echo-NAME and a client
# sidecar; its egress proxy listens on BASEPORT+1.
declare -A CLIENT SERVER
pair() {
  local n=$1 p=$2
  cat > "$OUT/run/$n-server.yaml" <<YAML
service: {name: echo-$n, register: true, advertiseHost: 127.0.0.1, ports: [{name: rest, port: 18080}]}
control: {address: "http://127.0.0.1:18700"}
egress: {listen: "127.0.0.1:$((p + 11))"}
ingress: {listen: "127.0.0.1:$((p + 6))"}
admin: {listen: "127.0.0.1:$((p + 10))"}
log: {level: warn}
YAML
  cat > "$OUT/run/$n-client.yaml" <<YAML
service: {name: client-$n, ports: [{name: rest, port: $((p + 81))}]}
control: {address: "http://127.0.0.1:18700"}
egress: {listen: "127.0.0.1:$((p + 1))"}
ingress: {listen: "127.0.0.1:$((p + 16))"}
admin: {listen: "127.0.0.1:$((p + 20))"}
log: {level: warn}
YAML
  local extra=A_ENV; [ "$n" = a ] || extra=B_ENV
  # shellcheck disable=SC2086 # the variable holds NAME=value words
  env ${!extra:-} "$OUT/sidecar-$n" --config "$OUT/run/$n-server.yaml" & SERVER[$n]=$!; PIDS+=($!)
  # shellcheck disable=SC2086
  env ${!extra:-} "$OUT/sidecar-$n" --config "$OUT/run/$n-client.yaml" & CLIENT[$n]=$!; PIDS+=($!)
  wait_http "http://127.0.0.1:$((p + 20))/readyz"
  wait_config "http://127.0.0.1:$((p + 20))" "127.0.0.1:$((p + 6))"
}
pair a 18100
pair b 18200

RES="$OUT/run/results.jsonl"
: > "$RES"
echo "== $ROUNDS rounds of $DUR, the two builds taking turns every $BLOCK, load: ${MODE[*]}" >&2
for ((r = 1; r <= ROUNDS; r++)); do
  # Alternate which build goes first, so neither always follows the other.
  if ((r % 2)); then order="a b"; else order="b a"; fi
  targets=()
  for n in $order; do
    base=$([ $n = a ] && echo 18100 || echo 18200)
    targets+=(-target "label=$n;url=http://echo-$n/;proxy=http://127.0.0.1:$((base + 1));pids=${CLIENT[$n]},${SERVER[$n]}")
  done
  "$OUT/bench" load -method "$METHOD" "${MODE[@]}" "${targets[@]}" -block "$BLOCK" -duration "$DUR" >> "$RES"
done

python3 - "$RES" "$A" <<'PY'
import json, sys
from statistics import median
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {n: [r for r in rows if r["label"] == n] for n in "ab"}
cpu = {n: [r["cpu_seconds"] / r["requests"] * 1e6 for r in by[n]] for n in "ab"}
for n, name in (("a", f"A ({sys.argv[2]})"), ("b", "B (working tree)")):
    print(f'{name}: median {median(r["rps"] for r in by[n]):.0f} req/s, {median(cpu[n]):.1f} µs CPU per request '
          f'(rounds: {", ".join(f"{c:.0f}" for c in cpu[n])}); errors {sum(r["errors"] for r in by[n])}')
ratio = [b / a for a, b in zip(cpu["a"], cpu["b"])]
print(f'B/A CPU per request, per round: {", ".join(f"{x:.3f}" for x in ratio)}; median {median(ratio):.3f}')
PY
