# Pinned versions of the local control plane; sourced by the hack/ scripts. The Go modules in
# hack/tools/ pin the same versions; change both together.
KUBE_VERSION=v1.37.2
KUBE_MAJOR=1
KUBE_MINOR=37
ETCD_VERSION=v3.6.16
KWOK_VERSION=v0.8.0
# The helm CLI, for the chart equality tests only (not in the tools directory's name: see build-tools.sh).
HELM_VERSION=v4.3.1

# bosun_tools_dir prints where the built binaries live: outside git, keyed by version so a
# version bump rebuilds instead of reusing stale binaries.
bosun_tools_dir() {
  if [ -n "${BOSUN_TOOLS_DIR:-}" ]; then echo "$BOSUN_TOOLS_DIR"; return; fi
  echo "${XDG_CACHE_HOME:-$HOME/.cache}/bosun/tools/k8s-$KUBE_VERSION-etcd-$ETCD_VERSION-kwok-$KWOK_VERSION"
}
