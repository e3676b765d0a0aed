#!/usr/bin/env bash
# The test command (README): builds the local control plane if it is missing, checks
# formatting and vet, then runs every test — unit tests and the tests against a real
# kube-apiserver, etcd and kube-controller-manager. Extra arguments go to `go test`
# (for example: hack/test.sh -run TestSite ./e2e/).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tools=$(hack/build-tools.sh)
export BOSUN_TOOLS_DIR="$tools"

echo "test: gofmt" >&2
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.local-cluster/*'))
if [ -n "$unformatted" ]; then
  echo "test: gofmt would change:" >&2
  echo "$unformatted" >&2
  exit 1
fi
echo "test: go vet" >&2
go vet ./...

if [ $# -eq 0 ]; then
  set -- ./...
fi
echo "test: go test $*" >&2
go test -count=1 -timeout 30m "$@"
