#!/usr/bin/env bash
# Installs what the mesh needs on a fresh Debian/Ubuntu machine, then builds.
# Idempotent: re-running only does what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
command -v ffmpeg >/dev/null 2>&1 || need+=(ffmpeg)
command -v ffprobe >/dev/null 2>&1 || need+=(ffmpeg)
command -v nats-server >/dev/null 2>&1 || need+=(nats-server)
# The original article's Python client is run against the mesh by the tests.
python3 -c 'import requests' >/dev/null 2>&1 || need+=(python3-requests)
# The web console's browser test drives Debian's Chromium (browser downloads are not possible here).
[ -x /usr/bin/chromium ] || need+=(chromium)
if ((${#need[@]})); then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "setup: installing Debian packages: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# onnxruntime-node's install step downloads the CUDA 12 provider libraries;
# without a GPU (or without internet) skip it: the CPU provider is bundled.
if ! command -v nvidia-smi >/dev/null 2>&1; then
  export ONNXRUNTIME_NODE_INSTALL=skip
fi
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  echo "setup: npm ci"
  npm ci --no-audit --no-fund
fi
echo "setup: building"
npx tsc -b
node packages/web-console/build.mjs
