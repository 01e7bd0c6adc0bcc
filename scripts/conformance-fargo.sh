#!/usr/bin/env bash
# Runs hudl/fargo's own tests (its tests/ package, which talks to a Eureka
# server named in tests/config_sample/net.gcfg) against registry-adapter's
# Eureka front-end: one adapter, the config pointed at it. Prints pass/fail
# per test and a summary, and fails when a test not listed in
# scripts/conformance-fargo/out-of-scope.txt fails. About 7 minutes, most of
# it the tests' own sleeps (35 s for Eureka's response cache). Manual, like make bench; figures in
# docs/conformance.md.
#
# Environment: FARGO_VERSION (default: what go.mod requires), WORK (scratch
# dir, default a fresh temp dir).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
VERSION=${FARGO_VERSION:-$(go list -m -f '{{.Version}}' github.com/hudl/fargo)}
WORK=${WORK:-$(mktemp -d -t conformance-fargo.XXXXXX)}
mkdir -p "$WORK"
echo "== work dir $WORK"

src=$(GOFLAGS= go mod download -json "github.com/hudl/fargo@$VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')
[ -d "$src" ] || { echo "fargo $VERSION: not downloaded" >&2; exit 1; }
rm -rf "$WORK/fargo"; cp -r "$src" "$WORK/fargo"; chmod -R u+w "$WORK/fargo"

CGO_ENABLED=0 go build -o "$WORK/registry-adapter" ./cmd/registry-adapter
cat >"$WORK/registry-adapter.yaml" <<YAML
store: {embedded: {dir: $WORK/data}}
control: {listen: ""}
consul: {listen: ""}
nacos: {listen: ""}
eureka: {listen: "127.0.0.1:0"}
log: {level: info}
YAML
"$WORK/registry-adapter" -config "$WORK/registry-adapter.yaml" >"$WORK/adapter.log" 2>&1 &
adapter=$!
trap 'kill "$adapter" 2>/dev/null; wait "$adapter" 2>/dev/null || true' EXIT
# The port the OS chose, from the adapter's "listening" line.
addr=
for _ in $(seq 100); do
	addr=$(sed -n 's/.*listener=eureka addr=\([0-9.:]*\).*/\1/p' "$WORK/adapter.log" | head -1)
	[ -n "$addr" ] && break
	sleep 0.1
done
[ -n "$addr" ] || { echo "registry-adapter did not start:" >&2; cat "$WORK/adapter.log" >&2; exit 1; }
printf '[Eureka]\nServiceUrls = http://%s/eureka/v2\nConnectTimeoutSeconds = 2\n' "$addr" >"$WORK/fargo/tests/config_sample/net.gcfg"
echo "== fargo $VERSION tests against registry-adapter's Eureka at $addr"

started=$(date +%s)
(cd "$WORK/fargo" && GOWORK=off GOFLAGS=-mod=mod go test -count=1 -v -timeout 10m ./tests/) >"$WORK/test.log" 2>&1 || true
grep -E '^--- (PASS|FAIL|SKIP)' "$WORK/test.log" | sed -E 's/^--- (PASS|FAIL|SKIP): ([^ ]+).*/\1 \2/' | tee "$WORK/results.txt"
echo
failed=$(awk '$1=="FAIL"{print $2}' "$WORK/results.txt" | sort)
listed=$(grep -v '^#' scripts/conformance-fargo/out-of-scope.txt | awk 'NF {print $1}' | sort)
in_scope=$(comm -23 <(echo "$failed" | sed '/^$/d') <(echo "$listed"))
echo "== passed $(grep -c '^PASS' "$WORK/results.txt" || true), failed $(grep -c '^FAIL' "$WORK/results.txt" || true), skipped $(grep -c '^SKIP' "$WORK/results.txt" || true) in $(($(date +%s) - started))s (log $WORK/test.log)"
if [ -n "$in_scope" ]; then
	echo "FAILED IN SCOPE (not in scripts/conformance-fargo/out-of-scope.txt):"; echo "$in_scope" | sed 's/^/  /'
	exit 1
fi
echo "in-scope failures: 0"
