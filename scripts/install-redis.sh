#!/usr/bin/env bash
# Makes sure `redis-server` is there for the tests of the shared limits store (the e2e stack
# starts its own on a free loopback port, without persistence, and stops it after).
#
# Resolution order (scripts/stack/redis.ts resolves the same way at run time):
#   1. $REDIS_SERVER_BIN, when set and executable;
#   2. `redis-server` on PATH (Debian's package installs /usr/bin/redis-server);
#   3. otherwise, as root on Debian/Ubuntu: `apt-get install redis-server` (Debian's package,
#      Redis 7 on Debian 12). The package's service is not needed: nothing here starts it.
# Idempotent. Always ends with the line `redis-server: <path> (<version>)`.
set -euo pipefail

log() { echo "install-redis: $*" >&2; }
die() { echo "install-redis: error: $*" >&2; exit 1; }

found() {
  echo "redis-server: $1 ($("$1" --version | head -n1))"
  exit 0
}

if [[ -n "${REDIS_SERVER_BIN:-}" ]]; then
  [[ -x "$REDIS_SERVER_BIN" ]] || die "REDIS_SERVER_BIN=$REDIS_SERVER_BIN is not executable"
  found "$REDIS_SERVER_BIN"
fi
if command -v redis-server >/dev/null 2>&1; then
  found "$(command -v redis-server)"
fi

command -v apt-get >/dev/null 2>&1 || die "redis-server is not installed and there is no apt-get: install Redis 6.2+ and put redis-server on PATH (or set REDIS_SERVER_BIN)"
[[ "$(id -u)" -eq 0 ]] || die "redis-server is not installed: run 'sudo apt-get install redis-server' (or set REDIS_SERVER_BIN)"
log "apt-get install redis-server"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# policy-rc.d exit 101: the package's service is not started (tests start their own redis-server).
policy=/usr/sbin/policy-rc.d
created_policy=false
if [[ ! -e "$policy" ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$policy" && chmod +x "$policy" && created_policy=true
fi
status=0
apt-get install -y --no-install-recommends redis-server >&2 || status=$?
if [[ "$created_policy" == true ]]; then rm -f "$policy"; fi
[[ $status -eq 0 ]] || die "apt-get install redis-server failed"
command -v redis-server >/dev/null 2>&1 || die "redis-server still not on PATH after apt-get install"
found "$(command -v redis-server)"
