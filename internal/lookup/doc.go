// Package lookup serves Helm's lookup template function for charts that bosun renders in
// run and diff: it reads the live cluster, confined like the owner's children are.
//
// An owner is usually written by a tenant and can steer a chart's lookup through its values.
// So a lookup may read only where the watch's child policy lets the owner put children: the
// owner's own namespace, the namespaces of children.namespaces, and cluster-scoped kinds only
// with children.clusterScoped. A lookup elsewhere fails the render with a message naming the
// rule, rather than returning nothing (which a chart would take for "absent" and act on).
// Outside the owner's namespace it reads only the kinds of the watch's lookup.kinds, by default
// every kind but Secret: letting children go to a shared namespace must not let any tenant
// copy that namespace's Secrets into its own objects.
// A missing object is an empty map, as in Helm.
package lookup
