#!/usr/bin/env bash
# Static checks: types, the README's configuration table, lint and format, Protobuf lint, and generated code drift.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "check: typescript"
npx tsc -b
echo "check: configuration table in README.md"
config_tmp="$(mktemp)"
trap 'rm -f "$config_tmp"' EXIT
cp README.md "$config_tmp"
node scripts/config-table.mjs "$config_tmp"
if ! cmp -s README.md "$config_tmp"; then
  diff -u README.md "$config_tmp" || true
  echo "check: the configuration table in README.md differs from the schemas: run 'npm run docs:config'" >&2
  exit 1
fi
echo "check: NATS users and permissions in deploy/"
nats_tmp="$(mktemp)"
trap 'rm -f "$config_tmp" "$nats_tmp"' EXIT
node scripts/nats-config.mjs "$nats_tmp"
if ! cmp -s deploy/kustomize/base/nats-authorization.conf "$nats_tmp"; then
  diff -u deploy/kustomize/base/nats-authorization.conf "$nats_tmp" || true
  echo "check: deploy/kustomize/base/nats-authorization.conf differs from packages/common/src/nats-access: run 'npm run nats:config'" >&2
  exit 1
fi
echo "check: biome"
npx biome check .
echo "check: buf lint"
npx buf lint
npx buf format --diff --exit-code
echo "check: generated code is up to date"
npx buf generate
if ! git diff --quiet --exit-code -- packages/common/src/gen || [ -n "$(git status --porcelain -- packages/common/src/gen)" ]; then
  git status --short -- packages/common/src/gen
  echo "check: 'buf generate' changed packages/common/src/gen: commit the regenerated code" >&2
  exit 1
fi
if git rev-parse --verify -q origin/main >/dev/null && git cat-file -e origin/main:buf.yaml 2>/dev/null; then
  echo "check: buf breaking against origin/main"
  npx buf breaking --against ".git#ref=origin/main"
elif git rev-parse --verify -q HEAD~1 >/dev/null && git cat-file -e HEAD~1:buf.yaml 2>/dev/null; then
  echo "check: buf breaking against the previous commit"
  npx buf breaking --against ".git#ref=HEAD~1"
fi
echo "check: deploy manifests"
node deploy/validate.mjs
echo "check: ok"
