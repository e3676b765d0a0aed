package clusters

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"maps"

	"k8s.io/client-go/rest"
)

// Reserved is the cluster name that means the hub itself. No Secret or ClusterProfile may take
// it, so a template that targets "local" can never be redirected to another cluster by whoever
// can write Secrets in bosun's namespace.
const Reserved = "local"

// The label that marks a Secret in Options.SecretNamespace as a workload cluster's kubeconfig.
const (
	LabelSecretType   = "bosun.dev/secret-type"
	SecretTypeCluster = "cluster"
)

// The Secret data keys read for the kubeconfig: "value" is Flux's spec.kubeConfig.secretRef
// default and what Cluster API writes, "value.yaml" the other key Flux accepts.
const (
	KeyValue     = "value"
	KeyValueYAML = "value.yaml"
)

// KubeconfigKeys lists the kubeconfig keys in order of preference: when both are set, "value"
// wins. The package reads its own copy, so changing this slice changes nothing.
var KubeconfigKeys = []string{KeyValue, KeyValueYAML}

// The reasons a source is unusable, for errors.Is. Every Cluster.Err wraps one of them, with
// the source first and what to do after.
var (
	ErrNoKubeconfig     = errors.New("no kubeconfig")
	ErrBadKubeconfig    = errors.New("invalid kubeconfig")
	ErrFileReference    = errors.New("file reference")
	ErrExecRefused      = errors.New("exec credentials refused")
	ErrNoAccessProvider = errors.New("no usable access provider")
	ErrBadProfile       = errors.New("invalid ClusterProfile")
	ErrReserved         = errors.New("reserved name")
	ErrNameTaken        = errors.New("name taken")
)

// Cluster is one workload cluster as the hub describes it now.
type Cluster struct {
	// Name is the Secret's name, or the ClusterProfile's name.
	Name string
	// Labels are the Secret's or ClusterProfile's labels, for label selectors.
	Labels map[string]string
	// Source is "Secret/<ns>/<name>" or "ClusterProfile/<ns>/<name>".
	Source string
	// Config is a fresh copy per Get, so a caller may set QPS or a user agent on it. It holds
	// credentials: never log or print it.
	Config *rest.Config
	// Revision changes whenever the credentials or the server change: a short sha256 of the
	// kubeconfig bytes, or of the profile's access data and the provider file. A caller keeps
	// clients per (Name, Revision) and rebuilds them when it changes.
	Revision string
	// Err is set, and Config nil, when the source exists but is unusable. Its message names
	// the source and what to do, and never contains credential material.
	Err error
}

// Usable reports whether the cluster can be connected to.
func (c Cluster) Usable() bool { return c.Err == nil && c.Config != nil }

// clone returns a copy that shares nothing mutable with c, so what a caller does with a Get
// result cannot reach the registry's memory.
func (c Cluster) clone() Cluster {
	c.Labels = maps.Clone(c.Labels)
	if c.Config != nil {
		c.Config = rest.CopyConfig(c.Config)
	}
	return c
}

// sameAs reports whether a caller would see no difference between c and o: Changed is called
// only when this is false.
func (c Cluster) sameAs(o Cluster) bool {
	return c.Source == o.Source && c.Revision == o.Revision &&
		maps.Equal(c.Labels, o.Labels) && errText(c.Err) == errText(o.Err)
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// revision hashes the parts that decide how to reach a cluster. It is shortened because it is
// meant for logs and comparisons, not for integrity.
func revision(parts ...[]byte) string {
	h := sha256.New()
	for _, p := range parts {
		// The length prefix keeps ("ab","c") and ("a","bc") apart.
		h.Write(binary.LittleEndian.AppendUint64(nil, uint64(len(p))))
		h.Write(p)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))[:16]
}
