#!/usr/bin/env bash
# Eureka adapter: fetch latency percentiles over loopback and the CPU/memory
# of a server process under 5,000 instances renewing every 30 s (about 4 min).
# Figures go to the "Eureka adapter" section of docs/benchmarks.md.
set -euo pipefail
cd "$(dirname "$0")/.."
bin="$(mktemp -d)/eureka-bench"
trap 'rm -rf "$(dirname "$bin")"' EXIT
go build -o "$bin" ./adapters/eureka/bench
echo "== eureka: full and delta fetch, 10,000 instances"
"$bin" -mode fetch -instances 10000 -requests 200
echo "== eureka: 5,000 instances renewing every 30 s"
"$bin" -mode renew -instances 5000 -interval 30s -duration 60s
echo "== eureka: the same plus one delta fetch per renew"
"$bin" -mode renew -instances 5000 -interval 30s -duration 60s -with-delta -delta-retention 20s
