// Package testenv gives a test package one local control plane (see internal/localcluster)
// for all its tests, and the few helpers those tests share.
//
// Rules:
//   - One control plane per test package, started by TestMain through Main in a temporary
//     state dir and stopped after the tests; tests isolate themselves with CreateNamespace. A
//     test that needs a control plane unlike its package's (another feature gate) starts one
//     of its own with Start.
//   - A test that needs workload clusters (children in other clusters) starts each with
//     StartWorkload, usually with localcluster.WorkloadOptions: a control plane of its own,
//     stopped when the test ends, whose Kubeconfig the test puts into the package's cluster,
//     the hub, with Env.PutClusterSecret.
//   - Binaries a test runs (bosun, with a JSON log the test reads) are Processes
//     (process.go), killed when the test ends.
//   - Missing binaries fail the whole package with a non-zero exit and a message that says to
//     run hack/build-tools.sh; tests are never skipped for lack of a cluster.
//   - The state dir (with every component's log) is removed when the tests pass and kept, with
//     its path printed, when they fail.
//   - Helpers take a testing.TB and fail the test themselves, so tests read as a list of steps.
package testenv
