#!/usr/bin/env bash
# Regenerates the Envoy ext_proc stubs with ts-proto, run by buf from npm.
# Files the ext_proc service stub does not import are pruned (scripts/prune-gen.ts).
# Output is committed; test/unit/proto-drift.test.ts fails when it differs from a fresh run.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-ext-proc/gen}"
rm -rf "$out"
mkdir -p "$out"
npx --no-install buf generate --template buf.gen.yaml -o "$out" \
  --path node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/service/ext_proc/v3/external_processor.proto \
  --include-imports 2>&1
node --import tsx scripts/prune-gen.ts "$out"
