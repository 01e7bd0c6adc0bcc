#!/usr/bin/env bash
# The `make run` demo: registry-adapter on an embedded store (a fresh temp
# data dir), two versions of the demo service with sidecars, a canary rule,
# and traffic with the live split per version. Ctrl-C stops everything.
# It is a scenario (see docs/scenarios.md) run by bin/scenario; the file is
# written here so it can use every registry API this build has.
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
for b in scenario registry-adapter sidecar demoapp; do
	if [[ ! -x "$BIN/$b" ]]; then
		echo "demo: $BIN/$b is missing; run 'make build' (or 'make run') first" >&2
		exit 1
	fi
done

# The apps register through Eureka when both the adapter and the demo app
# have it, else through Nacos; every registry API the adapter has is served.
apis=()
for api in eureka consul nacos; do
	if "$BIN/registry-adapter" --help 2>&1 | grep -q -- "-$api-listen"; then apis+=("$api"); fi
done
registry=control
for r in eureka nacos; do
	if [[ " ${apis[*]} " == *" $r "* ]] && "$BIN/demoapp" --help 2>&1 | grep -q -- "$r"; then registry=$r; break; fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/meshbridge-demo.XXXXXX")
cat >"$work/demo.yaml" <<YAML
name: demo
description: make run - a canary by header, live.
timeout: 2h
topology:
  registry:
    store: embedded
    apis: [$(IFS=,; echo "${apis[*]}")]
  services:
    - name: orders
      registry: $registry
      versions:
        - name: v1
          instances: 2
        - name: v2
          instances: 1
          labels: {canary: "true"}
steps:
  - apply:
      kind: CanaryRule
      name: orders-canary
      spec:
        service: orders
        match: {headers: [{name: X-Canary, exact: "true"}]}
        selector: {version: v2}
  - traffic:
      name: live
      service: orders
      rate: 25
      duration: 1h
      classes:
        - {name: colored, share: 30%, headers: {X-Canary: "true"}}
YAML

echo "demo: orders v1 (2 instances) and v2 (1, the canary) register through $registry; 30% of requests carry X-Canary: true."
echo "demo: the live line shows which version answered each class. Ctrl-C stops everything."
echo "demo: try it yourself: curl -x <edge sidecar egress> -H 'X-Canary: true' http://orders/"
echo
# The runner stops every component on Ctrl-C; this shell waits for it.
trap '' INT
set +e
"$BIN/scenario" run --bin "$BIN" --work-dir "$work" "$work/demo.yaml"
code=$?
set -e
if pgrep -f "$work" >/dev/null 2>&1; then
	echo "demo: processes still running under $work" >&2
	exit 1
fi
echo "demo: stopped; nothing left running. Logs and data: $work (delete it when done)."
# Ctrl-C (the runner exits 130) is how the demo normally ends.
[[ $code -eq 0 || $code -eq 130 ]] || exit "$code"
