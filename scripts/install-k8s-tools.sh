#!/usr/bin/env bash
# Installs the tools that check deploy/kubernetes offline (test/unit/kubernetes*.test.ts), under
# .tmp/k8s-tools, from the registries' ordinary clients:
#   bin/kustomize   sigs.k8s.io/kustomize/kustomize/v5 (Go module proxy)
#   bin/egctl       github.com/envoyproxy/gateway/cmd/egctl: `egctl x translate` turns the Envoy
#                   Gateway resources into the Envoy config Envoy Gateway would send
#   crds/           the Gateway API and Envoy Gateway CRDs, from the same Go module's Helm chart
#   venv/           PyPI's kubernetes-validate (ships the Kubernetes OpenAPI schemas)
# Idempotent: a tool already at its pinned version is kept. Go's module and build caches are
# the user's defaults, so a second clone on the same machine (CI's) links instead of compiling.
# Measured on 2 busy cores: kustomize ~2.5 min, egctl ~15 min cold; seconds when cached.
#   bash scripts/install-k8s-tools.sh [kustomize|egctl|crds|validate ...]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."

KUSTOMIZE_VERSION=v5.8.1   # v5.8.2+ needs Go 1.27
ENVOY_GATEWAY_VERSION=v1.9.1
KUBERNETES_VALIDATE_VERSION=1.37.0

TOOLS="$PWD/.tmp/k8s-tools"
mkdir -p "$TOOLS/bin"
# Never fetch a newer Go toolchain: build with the machine's Go or fail clearly.
export GOTOOLCHAIN=local GOBIN="$TOOLS/bin"

have_go() {
  if ! command -v go >/dev/null 2>&1; then
    echo "install-k8s-tools: go is not installed; cannot build $1" >&2
    return 1
  fi
}

# stamp NAME VERSION: true when NAME was installed at VERSION by this script.
stamped() { [[ -x "$TOOLS/bin/$1" && "$(cat "$TOOLS/bin/.$1.version" 2>/dev/null)" == "$2" ]]; }
stamp() { echo "$2" >"$TOOLS/bin/.$1.version"; }

install_kustomize() {
  stamped kustomize "$KUSTOMIZE_VERSION" && return 0
  have_go kustomize
  echo "install-k8s-tools: go install kustomize@$KUSTOMIZE_VERSION"
  go install "sigs.k8s.io/kustomize/kustomize/v5@$KUSTOMIZE_VERSION"
  stamp kustomize "$KUSTOMIZE_VERSION"
}

install_egctl() {
  stamped egctl "$ENVOY_GATEWAY_VERSION" && return 0
  have_go egctl
  echo "install-k8s-tools: go install egctl@$ENVOY_GATEWAY_VERSION (large: minutes on a cold cache)"
  go install "github.com/envoyproxy/gateway/cmd/egctl@$ENVOY_GATEWAY_VERSION"
  stamp egctl "$ENVOY_GATEWAY_VERSION"
}

install_crds() {
  local dest="$TOOLS/crds/$ENVOY_GATEWAY_VERSION"
  [[ -f "$dest/.complete" ]] && return 0
  have_go "the Envoy Gateway CRDs"
  local dir
  dir="$(go mod download -json "github.com/envoyproxy/gateway@$ENVOY_GATEWAY_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  local chart="$dir/charts/gateway-helm/charts/crds/crds"
  if [[ ! -f "$chart/gatewayapi-crds.yaml" ]]; then
    echo "install-k8s-tools: no CRDs at $chart" >&2
    return 1
  fi
  rm -rf "$dest" && mkdir -p "$dest"
  cp -r "$chart/." "$dest/"
  chmod -R u+w "$dest"
  touch "$dest/.complete"
}

install_validate() {
  local venv="$TOOLS/venv"
  [[ -x "$venv/bin/python" && "$(cat "$venv/.version" 2>/dev/null)" == "$KUBERNETES_VALIDATE_VERSION" ]] && return 0
  echo "install-k8s-tools: pip install kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "kubernetes-validate==$KUBERNETES_VALIDATE_VERSION"
  echo "$KUBERNETES_VALIDATE_VERSION" >"$venv/.version"
}

targets=("$@")
[[ ${#targets[@]} -eq 0 ]] && targets=(kustomize validate crds egctl)
for t in "${targets[@]}"; do
  start=$SECONDS
  "install_$t"
  echo "install-k8s-tools: $t ready ($((SECONDS - start)) s)"
done
