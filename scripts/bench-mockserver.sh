#!/usr/bin/env bash
# Mock server benchmark: mockserver with STUBS stubs (a third exact paths, a
# third path regexes, a third JSON-path body matchers; tools/mockbench)
# against a bare Go net/http handler answering the same requests with the
# same 1 KiB bodies, side by side in one run, through tools/sidecarbench's
# load generator: open loop at RATE rps (latency), then closed loop
# (throughput), the cases taking turns every BLOCK; then the resident
# memory (VmRSS, /proc/PID/status) of the processes, and of a mockserver
# with BIG stubs loaded. Prints a markdown table (also $OUT/results.md) for
# docs/benchmarks.md.
#
# Usage: scripts/bench-mockserver.sh   (RATE=1000 DURATION=10s BLOCK=2s MAXDUR=4s CONNS=32 MAXROUNDS=3 STUBS=100 BIG=10000 BASE=)
# The mock runs with its defaults (the journal on, 10,000 entries), as a
# user would run it; in the closed loop a second one without a journal
# (journal.entries: -1) shows what the journal costs. BASE=<git revision>
# adds the mockserver built at that revision ("mock@<rev>") to every
# case, taking turns with the others: a before-and-after in one run.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-tmp/bench-mockserver}"
RATE="${RATE:-1000}"
DURATION="${DURATION:-10s}"
BLOCK="${BLOCK:-2s}"
MAXDUR="${MAXDUR:-4s}"
CONNS="${CONNS:-32}"
MAXROUNDS="${MAXROUNDS:-3}"
STUBS="${STUBS:-100}"
BIG="${BIG:-10000}"
BASE="${BASE:-}"
mkdir -p "$OUT"
OUT="$(cd "$OUT" && pwd)"
rm -rf "$OUT/run" && mkdir -p "$OUT/run"

echo "== building" >&2
go build -o "$OUT/mockserver" ./cmd/mockserver
go build -o "$OUT/bench" ./tools/sidecarbench
go build -o "$OUT/mockbench" ./tools/mockbench
"$OUT/mockbench" stubs -n "$STUBS" -dir "$OUT/run/stubs"
"$OUT/mockbench" stubs -n "$BIG" -dir "$OUT/run/big"
if [ -n "$BASE" ]; then
  echo "== building mockserver at $BASE" >&2
  rm -rf "$OUT/base-src"
  git worktree add -f --detach "$OUT/base-src" "$BASE" >/dev/null 2>&1
  (cd "$OUT/base-src" && go build -o "$OUT/mockserver-base" ./cmd/mockserver)
  git worktree remove --force "$OUT/base-src"
fi

# shellcheck source=scripts/lib-processes.sh
. scripts/lib-processes.sh
trap stop_pids EXIT

echo "== starting mockserver ($STUBS stubs) and the bare handler" >&2
"$OUT/mockserver" --stubs "$OUT/run/stubs" --listen 127.0.0.1:19080 --admin-listen 127.0.0.1:19081 --log-level warn & MOCK=$!; PIDS+=($MOCK)
echo "journal: {entries: -1}" > "$OUT/run/nojournal.yaml"
"$OUT/mockserver" --config "$OUT/run/nojournal.yaml" --stubs "$OUT/run/stubs" --listen 127.0.0.1:19084 --admin-listen 127.0.0.1:19085 --log-level warn & NOJ=$!; PIDS+=($NOJ)
"$OUT/mockbench" bare -n "$STUBS" -listen 127.0.0.1:19090 & BARE=$!; PIDS+=($BARE)
wait_http http://127.0.0.1:19081/__admin/health
wait_http http://127.0.0.1:19085/__admin/health
wait_http http://127.0.0.1:19090/items/0
if [ -n "$BASE" ]; then
  "$OUT/mockserver-base" --stubs "$OUT/run/stubs" --listen 127.0.0.1:19086 --admin-listen 127.0.0.1:19087 --log-level warn & BASEPID=$!; PIDS+=($BASEPID)
  wait_http http://127.0.0.1:19087/__admin/health
fi

# The last stub of each kind below STUBS: every stub before it is tried.
last() { local i=$((STUBS - 1)); while [ $((i % 3)) != "$1" ]; do i=$((i - 1)); done; echo "$i"; }
EXACT=$(last 0); REGEX=$(last 1); ORDER=$(last 2)
ORDER_BODY="{\"items\":[{\"sku\":\"sku-$ORDER\",\"qty\":1}]}"
# The mock at BASE in each case, when there is one.
B_EXACT=() B_REGEX=() B_JSON=()
if [ -n "$BASE" ]; then
  B_EXACT=(-target "label=mock@$BASE exact path;url=http://127.0.0.1:19086/items/$EXACT;pids=$BASEPID")
  B_REGEX=(-target "label=mock@$BASE path regex;url=http://127.0.0.1:19086/regex/$REGEX/c0ffee;pids=$BASEPID")
  B_JSON=(-target "label=mock@$BASE JSON path;url=http://127.0.0.1:19086/orders;pids=$BASEPID")
fi
secs() { local d=$1; echo "${d%s}"; }
RES="$OUT/run/results.jsonl"
: > "$RES"
echo "== rate runs: $RATE rps, $DURATION each, taking turns every $BLOCK" >&2
load() { "$OUT/bench" load "$@" >> "$RES"; }
# Each target gets about DURATION (MAXDUR): the runs' length is shared.
turns() { local n=0 a; for a in "$@"; do [ "$a" != -target ] || n=$((n + 1)); done; echo "$n"; }
rate() { local dur=$1; shift; load -qps "$RATE" -block "$BLOCK" -duration "$(($(turns "$@") * $(secs "$dur")))s" "$@"; }
rate "$DURATION" -method GET \
  -target "label=bare exact path;url=http://127.0.0.1:19090/items/$EXACT;pids=$BARE" \
  -target "label=mock exact path;url=http://127.0.0.1:19080/items/$EXACT;pids=$MOCK" \
  "${B_EXACT[@]}" \
  -target "label=bare path regex;url=http://127.0.0.1:19090/regex/$REGEX/c0ffee;pids=$BARE" \
  -target "label=mock path regex;url=http://127.0.0.1:19080/regex/$REGEX/c0ffee;pids=$MOCK" \
  "${B_REGEX[@]}"
rate "$DURATION" -method POST -body-text "$ORDER_BODY" \
  -target "label=bare JSON path;url=http://127.0.0.1:19090/orders;pids=$BARE" \
  -target "label=mock JSON path;url=http://127.0.0.1:19080/orders;pids=$MOCK" \
  "${B_JSON[@]}"
echo "== max throughput: $CONNS connections, $MAXROUNDS runs of $MAXDUR each, taking turns every $BLOCK" >&2
max() { load -max -conns "$CONNS" -block "$BLOCK" -duration "$(($(turns "$@") * $(secs "$MAXDUR")))s" "$@"; }
for ((round = 1; round <= MAXROUNDS; round++)); do
  max -method GET \
    -target "label=bare exact path;url=http://127.0.0.1:19090/items/$EXACT" \
    -target "label=mock exact path;url=http://127.0.0.1:19080/items/$EXACT" \
    -target "label=mock exact path, no journal;url=http://127.0.0.1:19084/items/$EXACT" \
    "${B_EXACT[@]}" \
    -target "label=bare path regex;url=http://127.0.0.1:19090/regex/$REGEX/c0ffee" \
    -target "label=mock path regex;url=http://127.0.0.1:19080/regex/$REGEX/c0ffee" \
    -target "label=mock path regex, no journal;url=http://127.0.0.1:19084/regex/$REGEX/c0ffee" \
    "${B_REGEX[@]}"
  max -method POST -body-text "$ORDER_BODY" \
    -target "label=bare JSON path;url=http://127.0.0.1:19090/orders" \
    -target "label=mock JSON path;url=http://127.0.0.1:19080/orders" \
    -target "label=mock JSON path, no journal;url=http://127.0.0.1:19084/orders" \
    "${B_JSON[@]}"
done
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; } # KiB
echo "{\"rss\": \"mock $STUBS stubs, after the runs (journal full)\", \"kib\": $(rss $MOCK)}" >> "$RES"
echo "{\"rss\": \"mock $STUBS stubs, no journal, after the runs\", \"kib\": $(rss $NOJ)}" >> "$RES"
echo "{\"rss\": \"bare handler, after the runs\", \"kib\": $(rss $BARE)}" >> "$RES"
[ -z "$BASE" ] || echo "{\"rss\": \"mock@$BASE $STUBS stubs, after the runs (journal full)\", \"kib\": $(rss $BASEPID)}" >> "$RES"

echo "== mockserver with $BIG stubs" >&2
# big NAME BINARY PORT: start BINARY on the BIG stubs and note its RSS and
# time to ready; BIGPIDS[NAME] is its process.
declare -A BIGPIDS
big() {
  local start ready pid
  start=$(date +%s.%N)
  "$2" --stubs "$OUT/run/big" --listen "127.0.0.1:$3" --admin-listen "127.0.0.1:$(($3 + 1))" --log-level warn & pid=$!; PIDS+=($pid)
  wait_http "http://127.0.0.1:$(($3 + 1))/__admin/health" 120
  ready=$(date +%s.%N)
  BIGPIDS[$1]=$pid
  echo "{\"rss\": \"$1 $BIG stubs, loaded, idle\", \"kib\": $(rss $pid), \"ready_s\": $(printf %.2f "$(echo "$ready - $start" | bc)")}" >> "$RES"
}
BIGLAST=$((BIG - 1)); while [ $((BIGLAST % 3)) != 0 ]; do BIGLAST=$((BIGLAST - 1)); done
big mock "$OUT/mockserver" 19180
B_BIG=()
if [ -n "$BASE" ]; then
  big "mock@$BASE" "$OUT/mockserver-base" 19280
  B_BIG=(-target "label=mock@$BASE $BIG stubs, exact path;url=http://127.0.0.1:19280/items/$BIGLAST;pids=${BIGPIDS[mock@$BASE]}")
fi
rate "$DURATION" -method GET \
  -target "label=mock $BIG stubs, exact path;url=http://127.0.0.1:19180/items/$BIGLAST;pids=${BIGPIDS[mock]}" \
  "${B_BIG[@]}"
for name in "${!BIGPIDS[@]}"; do
  echo "{\"rss\": \"$name $BIG stubs, after $DURATION at $RATE rps\", \"kib\": $(rss "${BIGPIDS[$name]}")}" >> "$RES"
done

python3 - "$RES" "$RATE" "$STUBS" > "$OUT/results.md" <<'PY'
import json, re, sys
from statistics import median

def bare_of(label):
    """The bare handler's case a mock's is compared with (None: none)."""
    m = re.fullmatch(r"mock(@\S+)? (exact path|path regex|JSON path)(, no journal)?", label)
    return "bare " + m.group(2) if m else None

rows = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
rate = [r for r in rows if r.get("mode") == "rate"]
mx = [r for r in rows if r.get("mode") == "max"]
mem = [r for r in rows if "rss" in r]
by = {r["label"]: r for r in rate}
print(f"Open loop at {sys.argv[2]} rps, {sys.argv[3]} stubs, 1 KiB answers (latency in ms; added = mock minus bare):\n")
print("| case | p50 | p90 | p99 | max | added p50 | added p99 | errors | dropped | CPU cores per 1k rps |")
print("|---|---|---|---|---|---|---|---|---|---|")
for r in rate:
    bare = by.get(bare_of(r["label"]))
    add = f'{r["p50_ms"] - bare["p50_ms"]:.3f} | {r["p99_ms"] - bare["p99_ms"]:.3f}' if bare else "- | -"
    cpu = f'{r.get("cpu_cores_per_1k_rps", 0):.3f}' if r.get("cpu_seconds") else "-"
    print(f'| {r["label"]} | {r["p50_ms"]:.3f} | {r["p90_ms"]:.3f} | {r["p99_ms"]:.3f} | {r["max_ms"]:.2f} | {add} | {r["errors"]} | {r["dropped"]} | {cpu} |')
labels = list(dict.fromkeys(r["label"] for r in mx))
runs = {l: [r for r in mx if r["label"] == l] for l in labels}
print(f"\nMaximum throughput, closed loop, {len(runs[labels[0]])} runs, the cases taking turns within each:\n")
print("| case | median requests/s | each run | mock / bare, median of the runs | errors |")
print("|---|---|---|---|---|")
for l in labels:
    rs = runs[l]
    ratio = "-"
    if bare_of(l) in runs:
        bs = runs[bare_of(l)]
        ratio = f'{median(m["rps"] / b["rps"] for m, b in zip(rs, bs)):.2f}'
    print(f'| {l} | {median(r["rps"] for r in rs):.0f} | {", ".join(format(r["rps"], ".0f") for r in rs)} | {ratio} | {sum(r["errors"] for r in rs)} |')
print("\nResident memory (VmRSS from /proc/PID/status):\n")
print("| process | RSS MiB | note |")
print("|---|---|---|")
for r in mem:
    note = f'ready {r["ready_s"]:.1f} s after start' if "ready_s" in r else ""
    print(f'| {r["rss"]} | {r["kib"] / 1024:.1f} | {note} |')
PY
cat "$OUT/results.md"
