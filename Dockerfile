# Image for the TypeScript ext_proc (plugin runner). docker-compose.yml also runs the demo
# model servers from this image, overriding the command. Envoy runs in its own container.
FROM node:20-bookworm-slim

ENV NODE_ENV=production
WORKDIR /app

# Production dependencies only: tsx (and with it esbuild) is a runtime dependency: it builds
# the ext-proc below, runs the demo servers, and loads team plugins written in TypeScript. No
# install scripts are needed (esbuild ships its binary as an optional dependency).
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force

COPY tsconfig.json ./
COPY ext-proc/ ./ext-proc/
COPY plugins/ ./plugins/
COPY examples/ ./examples/
COPY envoy/ ./envoy/
# The demo-models service runs all demo servers from this image.
COPY scripts/demo-models.ts ./scripts/
COPY scripts/build.ts ./scripts/
# The ext-proc runs from plain JavaScript (dist/): no TypeScript loader at run time.
RUN node --import tsx scripts/build.ts

# Where the ext-proc writes Envoy's model clusters and routes (docker-compose.yml mounts the
# shared `xds` volume here). A new named volume takes this directory's owner, so the
# unprivileged user below can write it; Envoy's container reads it.
RUN mkdir -p /var/lib/gateway/xds && chown node:node /var/lib/gateway/xds

# The base image's unprivileged user; the sources stay root-owned and read-only to it.
USER node

# 50051: ext_proc gRPC; 9464: Prometheus metrics.
EXPOSE 50051 9464

# Node flags: ext-proc/node-flags.ts (why: docs/performance.md, "Memory under load").
CMD ["node", "--heap-growing-percent=50", "--max-semi-space-size=8", "--no-allocation-site-pretenuring", "dist/ext-proc.js", "--config", "/etc/gateway/gateway.yaml"]
