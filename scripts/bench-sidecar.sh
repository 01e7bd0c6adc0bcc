#!/usr/bin/env bash
# Sidecar benchmark: load generator -> sidecar egress -> sidecar ingress ->
# echo app, against direct calls, one sidecar (ingress only) and an nginx
# reverse-proxy pair, in the same run. 1 KiB request and response bodies.
# Prints a markdown table (also written to $OUT/results.md) for
# docs/benchmarks.md.
#
# Usage: scripts/bench-sidecar.sh            (RATE=1000 DURATION=10s BLOCK=2s MAXDUR=6s CONNS=32 MAXROUNDS=5)
# The cases take turns every BLOCK within a run, open loop and closed loop
# alike; DURATION and MAXDUR are each case's share (whole seconds, best a
# multiple of BLOCK). Blocks much shorter than 2s measure bursts, not
# sustained load: with 250ms, nginx spent more CPU per request at the start
# of each block and the sidecar pair's throughput came out 8% better
# against it than with 2s (docs/benchmarks.md). Also: one header-only plugin in a
# sidecar's chain at PLUGIN_RATE=2000 rps, against the same sidecar
# without it (PLUGIN_ROUNDS=3 runs, PLUGIN_SLICE=6s each per case).
# PROFILE=1 also saves the sidecars' CPU and allocation profiles, during the
# pair's rate run ($OUT/rate-*.pprof) and its first closed-loop run
# ($OUT/max-*.pprof). HOLD=1 starts everything and waits, for manual runs.
# Installs Debian's nginx with apt-get when it is missing.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-tmp/bench-sidecar}"
RATE="${RATE:-1000}"
DURATION="${DURATION:-10s}"
MAXDUR="${MAXDUR:-6s}"
CONNS="${CONNS:-32}"
MAXROUNDS="${MAXROUNDS:-5}"
PLUGIN_RATE="${PLUGIN_RATE:-2000}"
PLUGIN_SLICE="${PLUGIN_SLICE:-6s}"
PLUGIN_ROUNDS="${PLUGIN_ROUNDS:-3}"
BLOCK="${BLOCK:-2s}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
rm -rf "$OUT/run" && mkdir -p "$OUT/run"

echo "== building" >&2
go build -o "$OUT/bench" ./tools/sidecarbench
go build -o "$OUT/sidecar" ./cmd/sidecar
(cd plugins/examples && go build -o "$OUT/header-injector" ./header-injector)

if ! command -v nginx >/dev/null 2>&1; then
  echo "== installing nginx (Debian package)" >&2
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq nginx >&2
fi
NGINX="$(command -v nginx)"

# shellcheck source=scripts/lib-processes.sh
. scripts/lib-processes.sh
cleanup() {
  stop_pids
  for c in n1 n2; do
    [ -f "$OUT/run/$c.pid" ] && kill "$(cat "$OUT/run/$c.pid")" 2>/dev/null || true
  done
  wait 2>/dev/null || true
}
trap cleanup EXIT

echo "== starting echo app, control plane, two sidecars, two nginx" >&2
start_app_and_control

cat > "$OUT/run/server.yaml" <<YAML
service: {name: echo, register: true, advertiseHost: 127.0.0.1, ports: [{name: rest, port: 18080}]}
control: {address: "http://127.0.0.1:18700"}
egress: {listen: "127.0.0.1:18011"}
ingress: {listen: "127.0.0.1:18006"}
admin: {listen: "127.0.0.1:18010", pprof: true}
log: {level: warn}
YAML
cat > "$OUT/run/client.yaml" <<YAML
service: {name: client, ports: [{name: rest, port: 18081}]}
control: {address: "http://127.0.0.1:18700"}
egress: {listen: "127.0.0.1:18001"}
ingress: {listen: "127.0.0.1:18106"}
admin: {listen: "127.0.0.1:18100", pprof: true}
log: {level: warn}
YAML
# SIDECAR_GOMAXPROCS caps the sidecars' Go scheduler (default: all cores).
GOMAXPROCS="${SIDECAR_GOMAXPROCS:-}" "$OUT/sidecar" --config "$OUT/run/server.yaml" & SERVER_PID=$!; PIDS+=($SERVER_PID)
GOMAXPROCS="${SIDECAR_GOMAXPROCS:-}" "$OUT/sidecar" --config "$OUT/run/client.yaml" & CLIENT_PID=$!; PIDS+=($CLIENT_PID)
wait_http http://127.0.0.1:18100/readyz
# A third sidecar in front of the same app with one header-only plugin
# (the header-injector example) in its inbound chain: issue #6's "added
# latency of one plugin in the sidecar chain", against the server sidecar.
cat > "$OUT/run/plugged.yaml" <<YAML
service: {name: echo-plugged, ports: [{name: rest, port: 18080}]}
control: {address: "http://127.0.0.1:18700"}
egress: {listen: "127.0.0.1:18411"}
ingress: {listen: "127.0.0.1:18406"}
admin: {listen: "127.0.0.1:18410"}
log: {level: warn}
plugins:
  - name: inject
    path: $OUT/header-injector
    args: ["-set", "X-Team: payments"]
    sha256: $(sha256sum "$OUT/header-injector" | cut -d' ' -f1)
handlers: {plugin: {plugins: [inject]}}
YAML
GOMAXPROCS="${SIDECAR_GOMAXPROCS:-}" "$OUT/sidecar" --config "$OUT/run/plugged.yaml" & PLUGGED_PID=$!; PIDS+=($PLUGGED_PID)
wait_http http://127.0.0.1:18410/readyz
wait_config http://127.0.0.1:18100 127.0.0.1:18006

for n in 1 2; do
  if [ $n = 1 ]; then listen=18201; up=18202; else listen=18202; up=18080; fi
  mkdir -p "$OUT/run/n$n"
  cat > "$OUT/run/n$n.conf" <<NGINX
user root;
worker_processes auto;
pid $OUT/run/n$n.pid;
error_log $OUT/run/n$n.err warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path $OUT/run/n$n/body;
  proxy_temp_path $OUT/run/n$n/proxy;
  fastcgi_temp_path $OUT/run/n$n/fastcgi;
  uwsgi_temp_path $OUT/run/n$n/uwsgi;
  scgi_temp_path $OUT/run/n$n/scgi;
  upstream next { server 127.0.0.1:$up; keepalive 64; }
  server {
    listen 127.0.0.1:$listen;
    location / {
      proxy_pass http://next;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
    }
  }
}
NGINX
  "$NGINX" -c "$OUT/run/n$n.conf" -p "$OUT/run/n$n"
done
wait_http http://127.0.0.1:18201/
# The Go floor: two bare TCP relays in a row (no HTTP, no chain).
"$OUT/bench" relay -listen 127.0.0.1:18302 -upstream 127.0.0.1:18080 & R2=$!; PIDS+=($R2)
"$OUT/bench" relay -listen 127.0.0.1:18301 -upstream 127.0.0.1:18302 & R1=$!; PIDS+=($R1)
wait_http http://127.0.0.1:18301/
nginx_pids() { for c in n1 n2; do m=$(cat "$OUT/run/$c.pid"); echo "$m"; pgrep -P "$m"; done | paste -sd, -; }

load() { "$OUT/bench" load "$@"; }
if [ -n "${HOLD:-}" ]; then # keep everything up for manual runs, until interrupted
  echo "== ready: sidecar pair at http://127.0.0.1:18001 (proxy), nginx pair at :18201, relays at :18301; pids client=$CLIENT_PID server=$SERVER_PID nginx=$(nginx_pids)" >&2
  while sleep 3600; do :; done
fi
RES="$OUT/run/results.jsonl"
: > "$RES"
# The rate cases take turns every BLOCK in one run, so that noise on the
# machine (a VM's neighbours) falls on all alike; each has DURATION in all.
echo "== rate runs: $RATE rps, $DURATION each, taking turns every $BLOCK" >&2
# profile PREFIX SECONDS: CPU and allocation profiles of both sidecars.
profile() {
  [ -n "${PROFILE:-}" ] || return 0
  for s in client:18100 server:18010; do
    curl -s -o "$OUT/$1-${s%%:*}.pprof" "http://127.0.0.1:${s#*:}/debug/pprof/profile?seconds=$2" &
    curl -s -o "$OUT/$1-${s%%:*}.allocs.pprof" "http://127.0.0.1:${s#*:}/debug/pprof/allocs?seconds=$2" &
  done
}
secs() { local d=$1; echo "${d%s}"; }
profile rate "$((5 * $(secs "$DURATION")))"
load -qps "$RATE" -block "$BLOCK" -duration "$((5 * $(secs "$DURATION")))s" \
  -target "label=direct;url=http://127.0.0.1:18080/" \
  -target "label=server sidecar only;url=http://127.0.0.1:18006/;pids=$SERVER_PID" \
  -target "label=sidecar pair;url=http://echo/;proxy=http://127.0.0.1:18001;pids=$CLIENT_PID,$SERVER_PID" \
  -target "label=nginx pair;url=http://127.0.0.1:18201/;pids=$(nginx_pids)" \
  -target "label=go relay pair;url=http://127.0.0.1:18301/;pids=$R1,$R2" >> "$RES"
# The plugin at 2,000 rps: the server sidecar and the plugged one take
# turns every BLOCK, in PLUGIN_ROUNDS runs of PLUGIN_SLICE each.
echo "== plugin in the chain: $PLUGIN_RATE rps, $PLUGIN_ROUNDS runs of $PLUGIN_SLICE each, taking turns every $BLOCK" >&2
for ((i = 1; i <= PLUGIN_ROUNDS; i++)); do
  load -qps "$PLUGIN_RATE" -block "$BLOCK" -duration "$((2 * $(secs "$PLUGIN_SLICE")))s" \
    -target "label=sidecar, no plugin;url=http://127.0.0.1:18006/" \
    -target "label=sidecar + plugin;url=http://127.0.0.1:18406/;pids=$PLUGGED_PID,$(pgrep -d, -P "$PLUGGED_PID")" >> "$RES"
done
# The plugin really ran: its calls, as the plugged sidecar counts them.
curl -fsS http://127.0.0.1:18410/metrics | grep '^meshbridge_plugin_calls_total' > "$OUT/run/plugin-calls.txt" || true
# One closed-loop run swings by 20% or more on a small VM; the cases take
# turns every BLOCK within a run, MAXDUR each, for MAXROUNDS runs, and the
# summary gives each one's median.
echo "== max throughput: $CONNS connections, $MAXROUNDS runs of $MAXDUR each, taking turns every $BLOCK" >&2
for ((round = 1; round <= MAXROUNDS; round++)); do
  cases=(
    -target "label=direct;url=http://127.0.0.1:18080/"
    -target "label=sidecar pair;url=http://echo/;proxy=http://127.0.0.1:18001;pids=$CLIENT_PID,$SERVER_PID"
    -target "label=nginx pair;url=http://127.0.0.1:18201/;pids=$(nginx_pids)"
    -target "label=go relay pair;url=http://127.0.0.1:18301/;pids=$R1,$R2"
  )
  # Each run starts with another case, so that none always follows another.
  k=$((2 * ((round - 1) % 4)))
  [ "$round" != 1 ] || profile max "$((4 * $(secs "$MAXDUR")))"
  load -max -conns "$CONNS" -block "$BLOCK" -duration "$((4 * $(secs "$MAXDUR")))s" "${cases[@]:k}" "${cases[@]:0:k}" >> "$RES"
done

python3 - "$RES" "$RATE" > "$OUT/results.md" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
plug = [r for r in rows if r["mode"] == "rate" and r["label"] in ("sidecar, no plugin", "sidecar + plugin")]
rate = [r for r in rows if r["mode"] == "rate" and r not in plug]
mx = [r for r in rows if r["mode"] == "max"]
direct = next(r for r in rate if r["label"] == "direct")
hops = {"direct": 0, "server sidecar only": 1, "sidecar pair": 2, "nginx pair": 2, "go relay pair": 2}
print(f"Open loop at {sys.argv[2]} rps, 1 KiB bodies (latency in ms; added = minus direct; per hop = added / hops):\n")
print("| case | p50 | p90 | p99 | max | added p50 | added p99 | per hop p50 | per hop p99 | errors | dropped | missed | CPU cores per 1k rps | RSS MiB (peak) |")
print("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
for r in rate:
    h = hops.get(r["label"], 0)
    a50, a99 = r["p50_ms"] - direct["p50_ms"], r["p99_ms"] - direct["p99_ms"]
    ph = (f"{a50/h:.3f} | {a99/h:.3f}" if h else "- | -")
    cpu = f'{r.get("cpu_cores_per_1k_rps", 0):.3f}' if r.get("cpu_seconds") else "-"
    mem = f'{r.get("rss_mib", 0):.1f} ({r.get("peak_rss_mib", 0):.1f})' if r.get("rss_mib") else "-"
    print(f'| {r["label"]} | {r["p50_ms"]:.3f} | {r["p90_ms"]:.3f} | {r["p99_ms"]:.3f} | {r["max_ms"]:.2f} | {a50:.3f} | {a99:.3f} | {ph} | {r["errors"]} | {r["dropped"]} | {r.get("missed", 0)} | {cpu} | {mem} |')
from statistics import median
labels = list(dict.fromkeys(r["label"] for r in mx))
runs = {l: [r for r in mx if r["label"] == l] for l in labels}
print(f"\nMaximum throughput, closed loop, {len(runs[labels[0]])} runs, the cases taking turns within each:\n")
print("| case | median requests/s | each round | median µs CPU per request | errors |")
print("|---|---|---|---|---|")
for l in labels:
    rs = runs[l]
    cpu = [r["cpu_seconds"] / r["requests"] * 1e6 for r in rs if r.get("cpu_seconds") and r.get("requests")]
    cpu_s = f"{median(cpu):.0f}" if cpu else "-"
    each = ", ".join(f'{r["rps"]:.0f}' for r in rs)
    print(f'| {l} | {median(r["rps"] for r in rs):.0f} | {each} | {cpu_s} | {sum(r["errors"] for r in rs)} |')
if plug:
    print(f"\nOne header-only plugin in the sidecar's inbound chain, {len(plug) // 2} runs, the two taking turns within each (latency in ms):\n")
    print("| run | no plugin p50 | p99 | with plugin p50 | p99 | added p50 | added p99 | errors |")
    print("|---|---|---|---|---|---|---|---|")
    pairs = list(zip(plug[0::2], plug[1::2]))
    for i, (a, b) in enumerate(pairs, 1):
        print(f'| {i} | {a["p50_ms"]:.3f} | {a["p99_ms"]:.3f} | {b["p50_ms"]:.3f} | {b["p99_ms"]:.3f} | '
              f'{b["p50_ms"] - a["p50_ms"]:.3f} | {b["p99_ms"] - a["p99_ms"]:.3f} | {a["errors"] + b["errors"]} |')
    added = [b["p50_ms"] - a["p50_ms"] for a, b in pairs]
    added99 = [b["p99_ms"] - a["p99_ms"] for a, b in pairs]
    print(f"\nadded by the plugin: p50 median {median(added) * 1000:.0f} µs, p99 median {median(added99) * 1000:.0f} µs")
    calls = [l for l in open(sys.argv[1].replace("results.jsonl", "plugin-calls.txt")).read().splitlines() if not l.endswith(" 0")]
    print(f"plugin calls counted by the plugged sidecar: {'; '.join(calls) or 'none (the plugin did not run)'}")
if "sidecar pair" in runs and "nginx pair" in runs:
    ratios = [s["rps"] / n["rps"] for s, n in zip(runs["sidecar pair"], runs["nginx pair"])]
    print(f"\nsidecar pair / nginx pair, per round: {', '.join(f'{x:.2f}' for x in ratios)}; median {median(ratios):.2f}")
if "go relay pair" in runs and "nginx pair" in runs:
    ratios = [s["rps"] / n["rps"] for s, n in zip(runs["go relay pair"], runs["nginx pair"])]
    print(f"go relay pair / nginx pair, per round: {', '.join(f'{x:.2f}' for x in ratios)}; median {median(ratios):.2f}")
PY
cat "$OUT/results.md"
