#!/usr/bin/env bash
# Builds, then runs the tests and prints how long they took.
#
#   scripts/test.sh [unit|e2e] [node --test options...]
#
#   (none)  every test: the tests beside the code, then the end-to-end tests
#   unit    the tests beside the code in packages/ and services/ (pure and
#           in-process), without those that need a nats-server (*.nats.test.js)
#           or run for long (*.slow.test.js: the memory soak)
#   e2e     the end-to-end tests in test/e2e, which start their own nats-server
#           and services
set -euo pipefail
cd "$(dirname "$0")/.."

selection=all
case "${1:-}" in
  unit | e2e)
    selection=$1
    shift
    ;;
esac

# On a fresh clone, install first (what `npm run demo` does before it starts the mesh).
[ -f node_modules/.package-lock.json ] || bash scripts/setup.sh
npx tsc -b
# The gateway serves the console from packages/web-console/dist/public (test/e2e/console.test.ts drives it).
node packages/web-console/build.mjs

# The compiled test file's source, so files left in dist/ by a moved or deleted source do not run.
source_of() {
  case "$1" in
    test/dist/*) printf '%s\n' "test/${1#test/dist/}" ;;
    *) printf '%s\n' "${1/\/dist\//\/src\/}" ;;
  esac | sed 's/\.js$/.ts/'
}

# Compiled test files under the given dist folders, sorted, whose source still exists.
find_tests() {
  local f
  find "$@" -path '*/node_modules' -prune -o -name '*.test.js' -print 2>/dev/null | sort |
    while read -r f; do
      if [ -f "$(source_of "$f")" ]; then printf '%s\n' "$f"; fi
    done
}

started=$(date +%s)
rc=0
summary=()
# Each run's spec report goes to a file as well, so the failures (with their messages) can be
# printed again at the end, where a CI log's tail shows them.
reports=$(mktemp -d)
trap 'rm -rf "$reports"' EXIT
if [ -t 1 ]; then console_reporter=spec; else console_reporter=tap; fi

# run LABEL "NODE_TEST_OPTIONS" FILES...: one `node --test` run; its status and time go into the summary.
run() {
  local label=$1 t0 status=0
  local -a opts
  read -ra opts <<<"$2"
  shift 2
  t0=$(date +%s)
  local report="$reports/${#summary[@]}.txt"
  node --test --test-reporter="$console_reporter" --test-reporter-destination=stdout \
    --test-reporter=spec --test-reporter-destination="$report" "${opts[@]}" "${extra[@]}" "$@" || status=$?
  if [ "$status" -ne 0 ]; then
    failures+=("--- ${label}: failing tests (stack frames left out) ---")
    mapfile -t -O "${#failures[@]}" failures < <(sed -n '/failing tests:/,$p' "$report" | grep -vE '^[[:space:]]+at ' | head -200)
  fi
  summary+=("${label}: $# files, $(($(date +%s) - t0)) s, $([ "$status" -eq 0 ] && echo passed || echo "FAILED ($status)")")
  [ "$status" -eq 0 ] || rc=$status
}

extra=("$@")
failures=()
if [ "$selection" != e2e ]; then
  mapfile -t all < <(find_tests packages/*/dist services/*/dist)
  mapfile -t unit < <(printf '%s\n' "${all[@]}" | grep -vE '\.(nats|slow)\.test\.js$')
  mapfile -t heavy < <(printf '%s\n' "${all[@]}" | grep -E '\.(nats|slow)\.test\.js$')
  [ ${#unit[@]} -gt 0 ] || { echo "no unit test files found" >&2; exit 1; }
  # Three files at a time: most of their time is waiting on timers, pulls and child
  # processes, and that keeps them around a minute and a half on 2 cores.
  run "tests beside the code" "--test-timeout=120000 --test-concurrency=3" "${unit[@]}"
  # Those that start nats-servers (a three-node cluster among them) or measure memory: two at a
  # time (the cluster's and the single server's contract suites, the longest, then overlap); more
  # would load the machine until their NATS requests time out.
  if [ "$selection" = all ] && [ ${#heavy[@]} -gt 0 ]; then
    run "tests beside the code on real nats-servers" "--test-timeout=300000 --test-concurrency=2" "${heavy[@]}"
  fi
fi
if [ "$selection" != unit ]; then
  mapfile -t e2e < <(find_tests test/dist/e2e)
  [ ${#e2e[@]} -gt 0 ] || { echo "no end-to-end test files found" >&2; exit 1; }
  # Files that kill nothing and run short clips: two at a time, each on its own mesh.
  # The others kill processes or nodes, pause or preempt, or time steps: one at a time,
  # since on 2 cores a neighbour's load trips their stall and step timings.
  together='/(api|cli|client-sdk|console|gateway-ops|prompt-debugging|s3-results|sse|watch-fan-out)\.test\.js$'
  mapfile -t paired < <(printf '%s\n' "${e2e[@]}" | grep -E "$together")
  mapfile -t alone < <(printf '%s\n' "${e2e[@]}" | grep -vE "$together")
  # Node 20 applies --test-timeout to a file as well as to each of its tests, and one
  # file runs several minutes of suites on its mesh; a test that hangs is
  # stopped sooner by its own waits, which all have deadlines.
  if [ ${#paired[@]} -gt 0 ]; then
    run "end-to-end tests, two at a time" "--test-timeout=900000 --test-concurrency=2" "${paired[@]}"
  fi
  if [ ${#alone[@]} -gt 0 ]; then
    run "end-to-end tests, one at a time" "--test-timeout=900000 --test-concurrency=1" "${alone[@]}"
  fi
fi

for line in "${failures[@]}"; do echo "$line" >&2; done
for line in "${summary[@]}"; do echo "test.sh: $line" >&2; done
echo "test.sh: ${selection}: $(($(date +%s) - started)) s wall (build included)" >&2
exit "$rc"
