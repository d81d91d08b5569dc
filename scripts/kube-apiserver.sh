#!/usr/bin/env bash
# Builds kube-apiserver from the k8s.io/kubernetes Go module (through the Go
# module proxy) for the tests that run against a real API server, and links
# etcd beside it. The result is cached: a second run with the binary present
# returns at once, and a warm Go build cache turns the ~10 minute cold build
# into seconds.
#
#   scripts/kube-apiserver.sh            # build if missing, print the assets directory
#
# Knobs: ROTOR_K8S_ASSETS (default ~/.cache/rotor/k8s/assets), K8S_VERSION (v1.34.4).
# Tests find the binaries through ROTOR_K8S_ASSETS or the default directory.
set -euo pipefail

K8S_VERSION=${K8S_VERSION:-v1.34.4}
STAGING_VERSION=v0.${K8S_VERSION#v1.}
ASSETS=${ROTOR_K8S_ASSETS:-${XDG_CACHE_HOME:-$HOME/.cache}/rotor/k8s/assets}
SRC=$(dirname "$ASSETS")/src/kas-$K8S_VERSION
export GOFLAGS=-buildvcs=false
export GOTOOLCHAIN=${GOTOOLCHAIN:-local}

log() { printf '[kube-apiserver.sh %s] %s\n' "$(date +%T)" "$*" >&2; }

link_etcd() {
  local etcd
  etcd=$(command -v etcd || true)
  [ -n "$etcd" ] || { log "etcd not found: install Debian's etcd-server"; exit 1; }
  ln -sf "$etcd" "$ASSETS/etcd"
}

mkdir -p "$ASSETS"
want="Kubernetes $K8S_VERSION"
if [ -x "$ASSETS/kube-apiserver" ] && [ "$("$ASSETS/kube-apiserver" --version 2>/dev/null)" = "$want" ]; then
  link_etcd
  echo "$ASSETS"
  exit 0
fi

mkdir -p "$SRC"
cd "$SRC"
gomod=$(cd /tmp && go mod download -json "k8s.io/kubernetes@$K8S_VERSION" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
{
  echo "module kasbuild"; echo
  echo "go $(awk '/^go /{print $2}' "$gomod")"; echo
  echo "require k8s.io/kubernetes $K8S_VERSION"; echo
  echo "replace ("
  # k8s.io/kubernetes replaces its staging modules by local directories, which
  # a dependent module ignores: pin each to its published v0.N.M tag instead.
  for m in $(sed -n '/^replace (/,/^)/p' "$gomod" | awk '/=> \.\/staging/{print $1}'); do
    if (cd /tmp && go list -m "$m@$STAGING_VERSION" >/dev/null 2>&1); then
      echo "	$m => $m $STAGING_VERSION"
    else # not published (e.g. k8s.io/sample-cli-plugin): an empty stub is enough
      d=stubs/${m#k8s.io/}; mkdir -p "$d"; printf 'module %s\n\ngo 1.21\n' "$m" > "$d/go.mod"
      echo "	$m => ./$d"
    fi
  done
  echo ")"
} > go.mod
log "resolving k8s.io/kubernetes $K8S_VERSION"
go get "k8s.io/kubernetes/cmd/kube-apiserver@$K8S_VERSION"
minor=${K8S_VERSION#v1.}; minor=${minor%%.*}
log "building kube-apiserver (about 10 minutes on 2 cores with a cold build cache)"
go build -o "$ASSETS/kube-apiserver.tmp" -ldflags "-s -w \
  -X k8s.io/component-base/version.gitVersion=$K8S_VERSION \
  -X k8s.io/component-base/version.gitMajor=1 \
  -X k8s.io/component-base/version.gitMinor=$minor \
  -X k8s.io/component-base/version.gitTreeState=clean" k8s.io/kubernetes/cmd/kube-apiserver
mv "$ASSETS/kube-apiserver.tmp" "$ASSETS/kube-apiserver"
link_etcd
log "$("$ASSETS/kube-apiserver" --version)"
echo "$ASSETS"
