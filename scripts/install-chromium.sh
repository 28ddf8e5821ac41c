#!/usr/bin/env bash
# Installs Debian's Chromium for the console's browser e2e (test/e2e/console.test.ts), which
# drives it with puppeteer-core. .ci/run installs it the same way; this is for local machines.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  echo "chromium already installed: $(chromium --version 2>/dev/null || echo present)"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends chromium
