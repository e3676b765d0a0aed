#!/usr/bin/env bash
# Quick start (README): builds the local control plane (first run: ~12 minutes) and bosun,
# starts etcd + kube-apiserver + kube-controller-manager + kube-scheduler + kwok on loopback,
# installs the Site example, runs bosun on it, creates a Site and shows its children.
# bosun and the cluster keep running until Ctrl-C (or until QUICKSTART_EXIT=1 says not to wait).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

dir=.local-cluster
say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }

command -v kubectl >/dev/null || { echo "quickstart: kubectl is needed to show the result (bosun itself does not use it)" >&2; exit 1; }

say "Building the control plane from pinned Go modules (cached after the first run)"
export BOSUN_TOOLS_DIR=$(hack/build-tools.sh)
say "Building bosun"
go build -o bin/bosun .
go build -o bin/local-cluster ./hack/local-cluster

mkdir -p "$dir"
bin/local-cluster down --dir "$dir" >/dev/null
say "Starting the local cluster (logs: $dir/)"
bin/local-cluster up --dir "$dir" >"$dir/up.log" 2>&1 &
cluster=$!
bosun=""
cleanup() {
  trap - EXIT INT TERM
  say "Stopping bosun and the local cluster"
  [ -n "$bosun" ] && kill "$bosun" 2>/dev/null && wait "$bosun" 2>/dev/null || true
  bin/local-cluster down --dir "$dir" || true
  wait "$cluster" 2>/dev/null || true
}
trap cleanup EXIT INT TERM

# The pid file appears once the cluster is ready.
for _ in $(seq 1 180); do
  [ -f "$dir/local-cluster.pid" ] && break
  kill -0 "$cluster" 2>/dev/null || { cat "$dir/up.log" >&2; exit 1; }
  sleep 1
done
[ -f "$dir/local-cluster.pid" ] || { cat "$dir/up.log" >&2; echo "quickstart: the cluster did not come up in 3 minutes" >&2; exit 1; }
export KUBECONFIG=$PWD/$dir/kubeconfig

say "Installing the Site CRD (examples/site/crd.yaml)"
kubectl apply -f examples/site/crd.yaml
kubectl wait --for condition=established --timeout=60s crd/sites.example.bosun.dev

say "Running bosun on examples/site/watch.yaml (log: $dir/bosun.log)"
bin/bosun run --config examples/site/watch.yaml >"$dir/bosun.log" 2>&1 &
bosun=$!

say "Creating a Site (examples/site/site.yaml)"
kubectl apply -f examples/site/site.yaml
for _ in $(seq 1 60); do
  kubectl get deployment hello >/dev/null 2>&1 && break
  sleep 1
done
kubectl wait --for condition=available --timeout=90s deployment/hello

say "The Site and the children bosun made for it"
kubectl get site hello
kubectl get configmaps,deployments,services,pods -l app.kubernetes.io/managed-by=bosun -o wide
kubectl get pods -l app.kubernetes.io/instance=hello
say "bosun's log"
cat "$dir/bosun.log"

if [ "${QUICKSTART_EXIT:-0}" = 1 ]; then exit 0; fi
cat <<MSG

bosun keeps running. In another terminal:
  export KUBECONFIG=$KUBECONFIG
  kubectl patch site hello --type merge -p '{"spec":{"message":"Changed!","replicas":3}}'
  kubectl get configmap hello-content -o yaml
  kubectl delete site hello        # its children go with it
  tail -f $dir/bosun.log
Ctrl-C here stops bosun and the cluster.
MSG
wait "$bosun"
