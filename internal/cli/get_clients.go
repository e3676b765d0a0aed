package cli

import (
	"fmt"

	"k8s.io/apimachinery/pkg/api/meta"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	eventsv1 "k8s.io/client-go/kubernetes/typed/events/v1"
	"k8s.io/client-go/metadata"
	"k8s.io/client-go/rest"

	"github.com/bosun-dev/bosun/internal/restmap"
)

// readClients are what get and explain read the cluster through: they only read, and only
// the hub (the cluster of the owners). Tests fill them with client-go's fakes.
type readClients struct {
	dynamic  dynamic.Interface
	metadata metadata.Interface
	events   eventsv1.EventsV1Interface
	mapper   meta.RESTMapper
	// namespace is the kubeconfig context's, the default of --namespace.
	namespace string
}

// reachableDiscovery is the kubeconfig's client config, its namespace and a discovery client
// of a cluster that answered.
func (k kubeFlags) reachableDiscovery() (*rest.Config, string, *discovery.DiscoveryClient, error) {
	cfg, ns, err := k.clientConfig()
	if err != nil {
		return nil, "", nil, err
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, "", nil, fmt.Errorf("discovery client: %w", err)
	}
	if err := reachable(dc, cfg); err != nil {
		return nil, "", nil, err
	}
	return cfg, ns, dc, nil
}

// readClients connects to the cluster of the kubeconfig, failing with one clear message when
// it does not answer.
func (k kubeFlags) readClients() (*readClients, error) {
	cfg, ns, dc, err := k.reachableDiscovery()
	if err != nil {
		return nil, err
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("dynamic client: %w", err)
	}
	md, err := metadata.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("metadata client: %w", err)
	}
	ev, err := eventsv1.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("events client: %w", err)
	}
	return &readClients{dynamic: dyn, metadata: md, events: ev, mapper: restmap.New(dc, 0), namespace: ns}, nil
}
