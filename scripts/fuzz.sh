#!/usr/bin/env bash
# Runs every Go fuzz target in the workspace for a short time each.
# Usage: scripts/fuzz.sh [duration]   (default 5s per target)
set -euo pipefail
fuzztime="${1:-5s}"
cd "$(dirname "$0")/.."
grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r file; do
  dir="$(dirname "$file")"
  for target in $(grep -oE '^func Fuzz[A-Za-z0-9_]+' "$file" | sed 's/^func //'); do
    echo "== fuzz $dir $target ($fuzztime)"
    (cd "$dir" && go test -run '^$' -fuzz "^${target}\$" -fuzztime "$fuzztime" .)
  done
done
