#!/usr/bin/env bash
# A/B comparison of what one header-only plugin adds in a sidecar's chain,
# between two builds: the working tree (B) against a git revision (A,
# default HEAD). Four sidecars stand in front of one echo app: one of build
# A with the header-injector of build A in its inbound chain, one of build
# B likewise, and one plugin-less sidecar of each build. Each round is one
# open-loop run at RATE in which the four take turns every BLOCK, so that
# noise on the machine (a VM's neighbours) falls on all alike; the summary
# gives each build's median added p50 and p99 over the plugin-less sidecar
# of the same build, round by round.
#
# Usage: A=main scripts/ab-plugin.sh     (ROUNDS=6 DUR=24s BLOCK=2s RATE=2000)
# DUR is a round's measured time, shared by the four: 6 s each by default.
# A_PLUGIN_ENV and B_PLUGIN_ENV give one build's plugin an environment, as
# a YAML map (B_PLUGIN_ENV='{GOMAXPROCS: "1"}'); A_SIDECAR_ENV and
# B_SIDECAR_ENV give one build's sidecars variables of their own
# (A_SIDECAR_ENV=MESHBRIDGE_PLUGIN_CALLS=grpc, with A=HEAD: the same code
# with and without the calls' channel). PORT_OFFSET (default 0) moves every
# port the script listens on (18080-18711) by that much, for a machine on
# which another benchmark holds them.
set -euo pipefail
cd "$(dirname "$0")/.."
A="${A:-HEAD}"
ROUNDS="${ROUNDS:-6}"
DUR="${DUR:-24s}"
BLOCK="${BLOCK:-2s}"
RATE="${RATE:-2000}"
O="${PORT_OFFSET:-0}"
OUT="$(mkdir -p tmp/ab-plugin && cd tmp/ab-plugin && pwd)"
rm -rf "$OUT/run" && mkdir -p "$OUT/run"

echo "== building A ($A) and B (working tree)" >&2
# shellcheck source=scripts/lib-processes.sh
. scripts/lib-processes.sh
build_sidecar "$A" a plugin
build_sidecar "" b plugin
go build -o "$OUT/bench" ./tools/sidecarbench

trap stop_pids EXIT
start_app_and_control $((18080 + O)) $((18700 + O))

# sidecar NAME BASEPORT BUILD [PLUGIN]: a sidecar in front of the echo app,
# its ingress on BASEPORT+6, with PLUGIN in its inbound chain when given.
sidecar() {
  local n=$1 p=$(($2 + O)) build=$3 plugin=${4:-}
  {
    echo "service: {name: echo-$n, ports: [{name: rest, port: $((18080 + O))}]}"
    echo "control: {address: \"http://127.0.0.1:$((18700 + O))\"}"
    echo "egress: {listen: \"127.0.0.1:$((p + 11))\"}"
    echo "ingress: {listen: \"127.0.0.1:$((p + 6))\"}"
    echo "admin: {listen: \"127.0.0.1:$((p + 10))\"}"
    echo "log: {level: warn}"
    if [ -n "$plugin" ]; then
      local penv=A_PLUGIN_ENV; [ "$build" = a ] || penv=B_PLUGIN_ENV
      echo "plugins: [{name: inject, path: $plugin, args: [\"-set\", \"X-Team: payments\"], env: ${!penv:-{\}}, sha256: $(sha256sum "$plugin" | cut -d' ' -f1)}]"
      echo "handlers: {plugin: {plugins: [inject]}}"
    fi
  } > "$OUT/run/$n.yaml"
  local senv=A_SIDECAR_ENV; [ "$build" = a ] || senv=B_SIDECAR_ENV
  # shellcheck disable=SC2086 # the variables are words, one NAME=value each
  env ${!senv:-} "$OUT/sidecar-$build" --config "$OUT/run/$n.yaml" & PIDS+=($!)
  wait_http "http://127.0.0.1:$((p + 10))/readyz"
  kill -0 "${PIDS[-1]}" 2>/dev/null || { echo "sidecar $n exited (a port of $p-$((p + 11)) taken?)" >&2; exit 1; }
}
sidecar none-a 18100 a
sidecar none-b 18400 b
sidecar a 18200 a "$OUT/plugin-a"
sidecar b 18300 b "$OUT/plugin-b"

RES="$OUT/run/results.jsonl"
: > "$RES"
echo "== $ROUNDS rounds of $DUR at $RATE rps: each build without and with the plugin, taking turns every $BLOCK" >&2
for ((r = 1; r <= ROUNDS; r++)); do
  # Rotate the order, so that no case always follows another.
  case $((r % 4)) in
    1) order="none-a a none-b b" ;; 2) order="a none-b b none-a" ;;
    3) order="none-b b none-a a" ;; 0) order="b none-a a none-b" ;;
  esac
  targets=()
  for n in $order; do
    base=$(case $n in none-a) echo 18100 ;; none-b) echo 18400 ;; a) echo 18200 ;; b) echo 18300 ;; esac)
    targets+=(-target "label=$n;url=http://127.0.0.1:$((base + O + 6))/")
  done
  "$OUT/bench" load "${targets[@]}" -block "$BLOCK" -qps "$RATE" -duration "$DUR" >> "$RES"
done
for n in a b; do
  base=$([ $n = a ] && echo 18200 || echo 18300)
  calls=$(curl -fsS "http://127.0.0.1:$((base + O + 10))/metrics" | grep '^meshbridge_plugin_calls_total{call="request",plugin="inject",result="ok"}' | awk '{print $2}')
  channel=$(curl -fsS "http://127.0.0.1:$((base + O + 10))/metrics" | grep '^meshbridge_plugin_channel{plugin="inject"}' | awk '{print $2}')
  echo "plugin calls counted by sidecar $n: ${calls:-none} (on the calls' channel: ${channel:-no gauge})" >&2
done

python3 - "$RES" "$A" <<'PY'
import json, sys
from statistics import median
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
by = {n: [r for r in rows if r["label"] == n] for n in ("none-a", "none-b", "a", "b")}
for n, name in (("a", f"A ({sys.argv[2]})"), ("b", "B (working tree)")):
    none = by["none-" + n]
    add50 = [(r["p50_ms"] - base["p50_ms"]) * 1000 for r, base in zip(by[n], none)]
    add99 = [(r["p99_ms"] - base["p99_ms"]) * 1000 for r, base in zip(by[n], none)]
    print(f'{name}: added p50 median {median(add50):.0f} µs (rounds: {", ".join(f"{x:.0f}" for x in add50)}); '
          f'added p99 median {median(add99):.0f} µs; errors {sum(r["errors"] for r in by[n])}; '
          f'without the plugin p50 median {median(r["p50_ms"] for r in none) * 1000:.0f} µs, '
          f'p99 median {median(r["p99_ms"] for r in none) * 1000:.0f} µs')
PY
