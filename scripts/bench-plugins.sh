#!/usr/bin/env bash
# Plugin benchmarks (docs/benchmarks.md, "Plugins"): the cost of one
# header-only plugin call, and the latency one plugin adds to an HTTP chain
# at 2,000 requests per second. Run by scripts/bench.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== go test -bench 'PluginCall|ChainLatency' ./plugins/host/"
go test -run '^$' -bench 'BenchmarkPluginCall' -benchtime "${PLUGIN_CALL_BENCHTIME:-3s}" -timeout 10m ./plugins/host/
go test -run '^$' -bench 'BenchmarkChainLatency' -benchtime 1x -count "${PLUGIN_LATENCY_COUNT:-3}" -timeout 10m ./plugins/host/
go test -run '^$' -bench 'BenchmarkPipeFloor' -benchtime 1x -count 3 -timeout 5m ./plugins/host/
go test -run '^$' -bench 'BenchmarkInProcessCallPaced' -benchtime 1x -count 2 ./plugins/sdk/
GOMAXPROCS=1 go test -run '^$' -bench 'BenchmarkInProcessCallPaced' -benchtime 1x -count 2 ./plugins/sdk/
