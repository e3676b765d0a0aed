package clusters

import (
	"fmt"
	"maps"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// fromSecret turns a cluster Secret into a Cluster. It does no I/O: the kubeconfig may not
// name files (they would be read from bosun's own file system), and an exec plugin, when
// allowed, runs only once a client built from Config makes a request.
func fromSecret(s *corev1.Secret, allowExec bool) Cluster {
	c := Cluster{
		Name:   s.Name,
		Labels: maps.Clone(s.Labels),
		Source: "Secret/" + s.Namespace + "/" + s.Name,
	}
	key, data := kubeconfigData(s)
	if key == "" {
		c.Err = fmt.Errorf("%s: %w: the Secret has no data key %q or %q; put the kubeconfig under %q",
			c.Source, ErrNoKubeconfig, KeyValue, KeyValueYAML, KeyValue)
		return c
	}
	c.Revision = revision(data)
	cfg, err := restConfig(data, allowExec)
	if err != nil {
		c.Err = fmt.Errorf("%s: key %q: %w", c.Source, key, err)
		return c
	}
	c.Config = cfg
	return c
}

// kubeconfigData returns the first non-empty kubeconfig key of s and its bytes, or "" when
// there is none.
func kubeconfigData(s *corev1.Secret) (string, []byte) {
	for _, k := range []string{KeyValue, KeyValueYAML} {
		if v := s.Data[k]; len(v) > 0 {
			return k, v
		}
	}
	return "", nil
}

// restConfig builds the client config of a kubeconfig's current context, after checking the
// parts of that context that a Secret must not use.
func restConfig(data []byte, allowExec bool) (*rest.Config, error) {
	raw, err := clientcmd.Load(data)
	if err != nil {
		return nil, fmt.Errorf("%w: %s; fix the YAML (kubectl --kubeconfig=FILE config view shows it)",
			ErrBadKubeconfig, redact(err.Error()))
	}
	if err := checkCurrentContext(raw, allowExec); err != nil {
		return nil, err
	}
	cfg, err := clientcmd.NewDefaultClientConfig(*raw, &clientcmd.ConfigOverrides{}).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("%w: %s", ErrBadKubeconfig, redact(err.Error()))
	}
	return cfg, nil
}

// checkCurrentContext refuses what clientcmd would accept from a file on a laptop but must not
// accept from a Secret: file paths (a relative one cannot resolve, an absolute one would read
// bosun's own files, such as its service account token, and send them to the Secret's server),
// exec plugins and auth-providers (they run programs in bosun's pod) unless allowExec, and an
// empty server (clientcmd would fall back to $KUBERNETES_MASTER).
func checkCurrentContext(raw *clientcmdapi.Config, allowExec bool) error {
	if raw.CurrentContext == "" {
		return fmt.Errorf("%w: no current-context; set current-context to the context bosun should use", ErrBadKubeconfig)
	}
	kctx := raw.Contexts[raw.CurrentContext]
	if kctx == nil {
		return fmt.Errorf("%w: current-context %q is not among the contexts", ErrBadKubeconfig, raw.CurrentContext)
	}
	cluster := raw.Clusters[kctx.Cluster]
	if cluster == nil {
		return fmt.Errorf("%w: context %q names cluster %q, which is not among the clusters",
			ErrBadKubeconfig, raw.CurrentContext, kctx.Cluster)
	}
	if cluster.Server == "" {
		return fmt.Errorf("%w: cluster %q has no server", ErrBadKubeconfig, kctx.Cluster)
	}
	if cluster.CertificateAuthority != "" {
		return fileRefError("cluster", kctx.Cluster, "certificate-authority", cluster.CertificateAuthority)
	}
	user := raw.AuthInfos[kctx.AuthInfo]
	if user == nil {
		// No user is anonymous access, or a missing one that ClientConfig reports.
		return nil
	}
	for _, f := range []struct{ field, path string }{
		{"client-certificate", user.ClientCertificate},
		{"client-key", user.ClientKey},
		{"tokenFile", user.TokenFile},
	} {
		if f.path != "" {
			return fileRefError("user", kctx.AuthInfo, f.field, f.path)
		}
	}
	if allowExec {
		return nil
	}
	if user.Exec != nil {
		return fmt.Errorf("%w: user %q runs the exec credential plugin %q; use a token or a client certificate, or allow exec plugins in bosun's configuration",
			ErrExecRefused, kctx.AuthInfo, user.Exec.Command)
	}
	if user.AuthProvider != nil {
		return fmt.Errorf("%w: user %q uses auth-provider %q; use a token or a client certificate, or allow exec plugins in bosun's configuration",
			ErrExecRefused, kctx.AuthInfo, user.AuthProvider.Name)
	}
	return nil
}

func fileRefError(kind, name, field, path string) error {
	return fmt.Errorf("%w: %s %q has %s: %s, a file, which a kubeconfig in a Secret cannot use; inline it as %s",
		ErrFileReference, kind, name, field, path, inlineField(field))
}

// inlineField names the field that carries a file's content inline.
func inlineField(field string) string {
	if field == "tokenFile" {
		return "token"
	}
	return field + "-data"
}
