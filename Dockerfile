# syntax=docker/dockerfile:1.7
#
# One image for every service; each Deployment picks its entry point with
# `command:` (see deploy/kustomize/base/*.yaml). The default CMD runs the gateway.
#
#   CPU image (gateway, scheduler, encoder, CPU inference):
#     docker build -t t2v:local .
#   CUDA 12 image (inference on GPUs): also fetches onnxruntime's CUDA provider
#   libraries and runs on a CUDA 12 + cuDNN 9 base, which provides libcudart,
#   libcublas and libcudnn that those libraries load:
#     docker build -t t2v-cuda:local \
#       --build-arg ONNXRUNTIME_CUDA=1 \
#       --build-arg RUNTIME_IMAGE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04 .

ARG NODE_IMAGE=node:20-bookworm-slim
ARG RUNTIME_IMAGE=${NODE_IMAGE}

# ---------------------------------------------------------------- build
FROM ${NODE_IMAGE} AS build
WORKDIR /app
ARG ONNXRUNTIME_CUDA=0

# Manifests first so the dependency layer is cached across source edits.
# npm ci needs every workspace listed in package.json to exist.
COPY package.json package-lock.json tsconfig.json tsconfig.base.json ./
COPY packages/common/package.json packages/common/
COPY packages/model/package.json packages/model/
COPY packages/cli/package.json packages/cli/
COPY packages/client/package.json packages/client/
COPY packages/web-console/package.json packages/web-console/
COPY services/scheduler/package.json services/scheduler/
COPY services/inference/package.json services/inference/
COPY services/encoder/package.json services/encoder/
COPY services/gateway/package.json services/gateway/
COPY test/package.json test/

# onnxruntime-node bundles its CPU library; its postinstall would also fetch the
# CUDA provider libraries (~hundreds of MB) from NuGet. Skip that unless asked,
# then fetch them explicitly so the result does not depend on npm's policy for
# install scripts, and fail the build if they did not arrive.
RUN --mount=type=cache,target=/root/.npm \
    ONNXRUNTIME_NODE_INSTALL=skip npm ci --no-audit --no-fund \
 && if [ "$ONNXRUNTIME_CUDA" = "1" ]; then \
      ONNXRUNTIME_NODE_INSTALL=cuda12 node node_modules/onnxruntime-node/script/install.js \
      && test -f node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so; \
    fi

COPY packages packages
COPY services services
# Only what runs in the cluster; the CLI and end-to-end tests are not shipped.
# The web console is static files the gateway serves (esbuild is a dev dependency: build before pruning).
RUN npx tsc -b packages/common packages/model services/scheduler services/inference services/encoder services/gateway \
      packages/client packages/web-console \
 && node packages/web-console/build.mjs \
 && npm prune --omit=dev --no-audit --no-fund \
 && rm -f node_modules/@t2v/cli node_modules/@t2v/e2e node_modules/.bin/t2v

# Gather exactly what the runtime needs into /out.
RUN mkdir -p /out \
 && cp -a package.json node_modules /out/ \
 && for d in packages/common packages/model services/scheduler services/inference services/encoder services/gateway; do \
      mkdir -p "/out/$d" && cp -a "$d/package.json" "$d/dist" "/out/$d/" \
      && if [ -d "$d/node_modules" ]; then cp -a "$d/node_modules" "/out/$d/"; fi; \
    done \
 && mkdir -p /out/packages/web-console/dist && cp -a packages/web-console/dist/public /out/packages/web-console/dist/ \
 && find /out -name '*.tsbuildinfo' -delete

# ---------------------------------------------------------------- node binary
FROM ${NODE_IMAGE} AS node

# ---------------------------------------------------------------- runtime
FROM ${RUNTIME_IMAGE} AS runtime
# libx264 comes with Debian's/Ubuntu's ffmpeg (H100 has no NVENC: encoding is on CPU).
RUN apt-get update \
 && apt-get install -y --no-install-recommends ffmpeg ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && groupadd --system --gid 10001 t2v \
 && useradd --system --uid 10001 --gid t2v --home-dir /tmp --shell /usr/sbin/nologin t2v
# Same binary on the default base; the CUDA base has no Node of its own.
COPY --from=node /usr/local/bin/node /usr/local/bin/node

WORKDIR /app
COPY --from=build --chown=root:root /out/ /app/
ENV NODE_ENV=production \
    FFMPEG_PATH=ffmpeg
# Numeric, so Kubernetes' runAsNonRoot can verify it.
USER 10001:10001
EXPOSE 8080
CMD ["node", "services/gateway/dist/main.js"]
