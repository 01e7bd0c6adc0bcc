#!/usr/bin/env bash
# The `make run` demo: registry-adapter on an embedded store in a temporary
# data directory, with every registry API on its default port.
set -euo pipefail
cd "$(dirname "$0")/.."
data="$(mktemp -d -t meshbridge-demo.XXXXXX)"
cleanup() { [ -n "${pid:-}" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$data"; }
trap cleanup EXIT INT TERM
bin/registry-adapter --data-dir "$data" &
pid=$!
for _ in $(seq 1 100); do curl -fs http://127.0.0.1:8700/readyz >/dev/null 2>&1 && break; sleep 0.1; done
cat <<MSG

meshbridge registry-adapter is running (data in $data).

  control API   http://127.0.0.1:8700/api/v1/services
  Nacos         http://127.0.0.1:8848/nacos/v1/ns/service/list   (gRPC on :9848)
  Consul        http://127.0.0.1:8500/v1/catalog/services
  metrics       http://127.0.0.1:8700/metrics

Register an instance and read it back:

  curl -XPOST http://127.0.0.1:8700/api/v1/instances \\
       -d '{"id":"orders-1","service":"orders","host":"127.0.0.1","port":8080,"metadata":{"version":"v1"}}'
  curl http://127.0.0.1:8700/api/v1/instances?service=orders
  curl 'http://127.0.0.1:8848/nacos/v1/ns/instance/list?serviceName=orders'
  curl 'http://127.0.0.1:8500/v1/health/service/orders?passing=true'

Press Ctrl-C to stop; nothing is left running.
MSG
wait "$pid"
