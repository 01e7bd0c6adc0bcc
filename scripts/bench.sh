#!/usr/bin/env bash
# Runs meshbridge's benchmarks. Figures go to docs/benchmarks.md by hand, with
# this command and the machine they ran on (scripts/machine.sh prints it).
# Usage: scripts/bench.sh [go test -bench regexp]   (BENCHTIME=3x to repeat)
set -euo pipefail
cd "$(dirname "$0")/.."
pattern="${1:-.}"
benchtime="${BENCHTIME:-1x}"
echo "== machine"
scripts/machine.sh
run() {
  echo "== go test -bench '$pattern' -benchtime $benchtime $*"
  go test -run '^$' -bench "$pattern" -benchtime "${BENCHTIME:-$benchtime}" -timeout 30m "$@"
}
# Registry core: 100,000 instances (10,000 services x 10).
run ./registry/embedded/ ./registry/etcd/
BENCHTIME=1s run ./registry/embedded/ -bench 'Renew|ListOneService'
# Front-ends, plugins and sidecar add their own benchmark packages here.
for pkg in ./adapters/... ; do
  run "$pkg"
done
for extra in scripts/bench-*.sh; do
  [ -x "$extra" ] && "$extra"
done
