package cli

import (
	"fmt"

	"k8s.io/client-go/discovery"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
)

// kubeFlags are the flags of the commands that talk to a cluster besides run.
type kubeFlags struct {
	Kubeconfig string
	Context    string
}

// clientConfig loads the client configuration as kubectl does: --kubeconfig, then $KUBECONFIG,
// then ~/.kube/config, then the in-cluster service account. It returns the REST config and the
// context's namespace ("default" if it names none).
func (k kubeFlags) clientConfig() (*rest.Config, string, error) {
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = k.Kubeconfig
	cc := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, &clientcmd.ConfigOverrides{CurrentContext: k.Context})
	cfg, err := cc.ClientConfig()
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig: %w (check --kubeconfig and --context, or set $KUBECONFIG)", err)
	}
	ns, _, err := cc.Namespace()
	if err != nil {
		return nil, "", fmt.Errorf("kubeconfig: %w", err)
	}
	cfg.UserAgent = "bosun"
	return cfg, ns, nil
}

// reachable asks the API server for its version, so that a wrong kubeconfig fails with one
// clear message instead of an error per request.
func reachable(dc discovery.DiscoveryInterface, cfg *rest.Config) error {
	if _, err := dc.ServerVersion(); err != nil {
		return fmt.Errorf("cannot reach the API server at %s: %w (check --kubeconfig and --context, or that the cluster is up)", cfg.Host, err)
	}
	return nil
}
