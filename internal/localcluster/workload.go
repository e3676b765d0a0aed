package localcluster

// WorkloadOptions are the options of a workload cluster that holds objects but runs no pods:
// etcd, kube-apiserver and kube-controller-manager with MinimalControllers, so deleting a
// namespace empties it and the garbage collector deletes dependents. It starts in about the
// time of kube-apiserver alone. A workload cluster whose Deployments must become Available
// needs the full set instead: ControllerManager, Scheduler and Kwok, without
// MinimalControllers.
func WorkloadOptions(dir string) Options {
	return Options{Dir: dir, ControllerManager: true, MinimalControllers: true}
}
