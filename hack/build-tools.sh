#!/usr/bin/env bash
# Builds the local control plane from pinned Go modules (no downloads of prebuilt binaries):
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler and kwok, and the helm CLI that
# the chart equality tests compare against (renderer/chart_helm_test.go). The binaries land in
# a cache outside git; a second run finds them and returns at once. Prints the directory last.
#
#   hack/build-tools.sh            build what is missing, print the bin directory
#   BOSUN_TOOLS_DIR=... overrides the cache location.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=hack/versions.sh
source "$here/versions.sh"

bin=$(bosun_tools_dir)
mkdir -p "$bin"

log() { printf 'build-tools: %s\n' "$*" >&2; }

# heartbeat prints elapsed time while a long build runs, so nobody thinks it hangs.
heartbeat() {
  local what=$1 start=$SECONDS
  while sleep 30; do log "still building $what ($((SECONDS - start))s; a cold build takes ~10 min per Kubernetes binary on 2 cores)"; done
}

# tool_name prints the name a tool package's binary has in $bin. The etcd server's main package
# is its module root (go.etcd.io/etcd/server/v3), which go build names "server"; it is renamed.
tool_name() {
  case $1 in
    go.etcd.io/etcd/server/v3) echo etcd ;;
    *) basename "$1" ;;
  esac
}

# build DIR LDFLAGS PKG... builds the tool packages of the module in hack/tools/DIR into $bin.
build() {
  local mod=$1 ldflags=$2; shift 2
  local missing=() pkgs=() p name
  for p in "$@"; do
    name=$(tool_name "$p")
    [ -x "$bin/$name" ] && continue
    missing+=("$name"); pkgs+=("$p")
  done
  [ ${#pkgs[@]} -eq 0 ] && return 0
  log "building ${missing[*]} from hack/tools/$mod into $bin"
  heartbeat "${missing[*]}" & local hb=$!
  local start=$SECONDS tmp
  tmp=$(mktemp -d "$bin/.build.XXXXXX")
  # Build into a temp dir and move into place so an interrupted build never leaves a
  # half-written binary that a later run would take for done.
  if ! (cd "$here/tools/$mod" && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go build -trimpath -ldflags "$ldflags" -o "$tmp/" "${pkgs[@]}"); then
    kill "$hb" 2>/dev/null; rm -rf "$tmp"; log "build of ${missing[*]} failed"; return 1
  fi
  kill "$hb" 2>/dev/null || true
  [ -e "$tmp/server" ] && mv "$tmp/server" "$tmp/etcd"
  mv "$tmp"/* "$bin/" && rmdir "$tmp"
  log "built ${missing[*]} in $((SECONDS - start))s"
}

k8s_ldflags="-s -w -X k8s.io/component-base/version.gitVersion=$KUBE_VERSION -X k8s.io/component-base/version.gitMajor=$KUBE_MAJOR -X k8s.io/component-base/version.gitMinor=$KUBE_MINOR -X k8s.io/component-base/version.gitTreeState=clean"

build etcd "-s -w" go.etcd.io/etcd/server/v3
build kubernetes "$k8s_ldflags" \
  k8s.io/kubernetes/cmd/kube-apiserver \
  k8s.io/kubernetes/cmd/kube-controller-manager \
  k8s.io/kubernetes/cmd/kube-scheduler
build kwok "-s -w" sigs.k8s.io/kwok/cmd/kwok

# helm is not part of the directory's version key (a helm bump should not rebuild the control
# plane), so a helm of another version is removed here and rebuilt.
if [ -x "$bin/helm" ] && [ "$("$bin/helm" version --template '{{.Version}}' 2>/dev/null)" != "$HELM_VERSION" ]; then
  log "removing $bin/helm: not $HELM_VERSION"
  rm -f "$bin/helm"
fi
build helm "-s -w -X helm.sh/helm/v4/internal/version.version=$HELM_VERSION -X helm.sh/helm/v4/internal/version.gitTreeState=clean" \
  helm.sh/helm/v4/cmd/helm

# kwok_stages copies kwok's stage configs (how fake nodes and pods move through their
# lifecycle) from the pinned kwok module, so the local cluster uses the ones matching the binary.
kwok_stages() {
  local dst=$bin/kwok-stages f missing=()
  for f in node-initialize.yaml node-heartbeat.yaml pod-ready.yaml pod-complete.yaml pod-delete.yaml; do
    [ -f "$dst/$f" ] || missing+=("$f")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  local src
  src=$(cd "$here/tools/kwok" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)
  mkdir -p "$dst"
  for f in kustomize/stage/node/fast/node-initialize.yaml \
    kustomize/stage/node/heartbeat/node-heartbeat.yaml \
    kustomize/stage/pod/fast/pod-ready.yaml \
    kustomize/stage/pod/fast/pod-complete.yaml \
    kustomize/stage/pod/fast/pod-delete.yaml; do
    # The module cache is read-only; install gives the copy normal permissions.
    install -m 0644 "$src/$f" "$dst/$(basename "$f")"
  done
  log "copied kwok stage configs into $dst"
}
kwok_stages

echo "$bin"
