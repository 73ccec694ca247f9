#!/usr/bin/env bash
# Builds, then runs every test: unit tests beside the code and the end-to-end
# tests in test/ (which start their own nats-server and the four services).
set -euo pipefail
cd "$(dirname "$0")/.."
# On a fresh clone, install first (what `npm run demo` does before it starts the mesh).
[ -f node_modules/.package-lock.json ] || bash scripts/setup.sh
npx tsc -b
mapfile -t files < <(find packages services test -path '*/node_modules' -prune -o -path '*/dist/*' -name '*.test.js' -print | sort)
if [ ${#files[@]} -eq 0 ]; then
  echo "no test files found" >&2
  exit 1
fi
# One file at a time: end-to-end files each run a whole mesh on a 2-core machine.
exec node --test --test-concurrency=1 --test-timeout=300000 "$@" "${files[@]}"
