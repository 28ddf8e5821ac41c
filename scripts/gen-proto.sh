#!/usr/bin/env bash
# Regenerates the Envoy ext_proc and gRPC health stubs with ts-proto, run by buf from npm.
# Output is committed; test/unit/proto-drift.test.ts fails when it differs from a fresh run.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-ext-proc/gen}"
rm -rf "$out"
mkdir -p "$out"
npx --no-install buf generate --template buf.gen.yaml -o "$out" \
  --path node_modules/@grpc/grpc-js-xds/deps/envoy-api/envoy/service/ext_proc/v3/external_processor.proto \
  --include-imports 2>&1
