package clusters

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/cluster-inventory-api/apis/v1alpha1"
	"sigs.k8s.io/cluster-inventory-api/pkg/access"
)

// providers is the parsed KEP-5339 provider file: which exec plugin obtains credentials for
// each access provider name a ClusterProfile may offer.
type providers struct {
	path string
	cfg  *access.Config
	// encoded is the parsed file encoded again, hashed into every profile's Revision so that
	// a changed plugin command changes the Revision too.
	encoded []byte
}

// loadProviders reads the provider file with the SIG's loader and checks what that loader
// leaves to the first request: a provider without a name, a command or an apiVersion would
// otherwise only fail when a client is used.
func loadProviders(path string) (*providers, error) {
	cfg, err := access.NewFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("provider file %s: %w", path, err)
	}
	var errs []error
	if len(cfg.Providers) == 0 {
		errs = append(errs, errors.New("no providers"))
	}
	seen := map[string]bool{}
	for i, p := range cfg.Providers {
		switch {
		case p.Name == "":
			errs = append(errs, fmt.Errorf("providers[%d]: no name", i))
		case seen[p.Name]:
			errs = append(errs, fmt.Errorf("providers[%d]: name %q is used twice", i, p.Name))
		}
		seen[p.Name] = true
		switch {
		case p.ExecConfig == nil || p.ExecConfig.Command == "":
			errs = append(errs, fmt.Errorf("providers[%d] (%s): no execConfig.command", i, p.Name))
		case p.ExecConfig.APIVersion == "":
			errs = append(errs, fmt.Errorf("providers[%d] (%s): no execConfig.apiVersion (client.authentication.k8s.io/v1)", i, p.Name))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("provider file %s: %w", path, errors.Join(errs...))
	}
	encoded, err := json.Marshal(cfg)
	if err != nil {
		return nil, fmt.Errorf("provider file %s: %w", path, err)
	}
	return &providers{path: path, cfg: cfg, encoded: encoded}, nil
}

// names lists the provider names in the file's order, which is the order of preference.
func (p *providers) names() []string {
	out := make([]string, len(p.cfg.Providers))
	for i, pr := range p.cfg.Providers {
		out[i] = pr.Name
	}
	return out
}

// fromProfile turns a ClusterProfile read through the dynamic client into a Cluster. Like
// fromSecret it runs nothing: the exec plugin runs when a client built from Config is used.
func fromProfile(u *unstructured.Unstructured, p *providers) Cluster {
	c := Cluster{
		Name:   u.GetName(),
		Labels: maps.Clone(u.GetLabels()),
		Source: "ClusterProfile/" + u.GetNamespace() + "/" + u.GetName(),
	}
	var cp v1alpha1.ClusterProfile
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, &cp); err != nil {
		c.Err = fmt.Errorf("%s: %w: %s; fix its status (the cluster manager writes it)", c.Source, ErrBadProfile, redact(err.Error()))
		return c
	}
	mergeCredentialProviders(&cp)
	accessData, err := json.Marshal(cp.Status.AccessProviders)
	if err != nil {
		c.Err = fmt.Errorf("%s: %w: %s", c.Source, ErrBadProfile, redact(err.Error()))
		return c
	}
	// Only the access data and the provider file go into the Revision: the status conditions
	// and properties change with every heartbeat of the cluster manager, and a Revision that
	// followed them would make callers rebuild their clients for nothing.
	c.Revision = revision(p.encoded, accessData)
	cfg, err := p.build(&cp)
	if err != nil {
		c.Err = fmt.Errorf("%s: %w", c.Source, err)
		return c
	}
	c.Config = cfg
	return c
}

// mergeCredentialProviders moves the deprecated status.credentialProviders into
// status.accessProviders, an entry of the newer field winning by name as it does in
// access.BuildConfigFromCP. Done here so that the SIG helper, which logs a warning through klog
// for every profile that still uses the old field, never sees it: this package does not log.
func mergeCredentialProviders(cp *v1alpha1.ClusterProfile) {
	have := map[string]bool{}
	for _, a := range cp.Status.AccessProviders {
		have[a.Name] = true
	}
	for _, old := range cp.Status.CredentialProviders {
		if !have[old.Name] {
			cp.Status.AccessProviders = append(cp.Status.AccessProviders, old)
			have[old.Name] = true
		}
	}
	cp.Status.CredentialProviders = nil
}

// build returns the rest.Config of a profile through access.BuildConfigFromCP, after checking
// what that helper (v0.1.0) does not: that a provider matches, that it names a server, and that
// the CA is inline.
func (p *providers) build(cp *v1alpha1.ClusterProfile) (*rest.Config, error) {
	chosen := p.choose(cp)
	if chosen == nil {
		offered := make([]string, len(cp.Status.AccessProviders))
		for i, a := range cp.Status.AccessProviders {
			offered[i] = a.Name
		}
		return nil, fmt.Errorf("%w: status.accessProviders offers [%s], the provider file %s configures [%s]; add a provider for one of them to the provider file",
			ErrNoAccessProvider, strings.Join(offered, " "), p.path, strings.Join(p.names(), " "))
	}
	if chosen.Cluster.Server == "" {
		return nil, fmt.Errorf("%w: access provider %q has no cluster.server; the cluster manager must set it",
			ErrNoAccessProvider, chosen.Name)
	}
	if chosen.Cluster.CertificateAuthority != "" && len(chosen.Cluster.CertificateAuthorityData) == 0 {
		return nil, fmt.Errorf("%w: access provider %q has cluster.certificate-authority: %s, a file; the cluster manager must set certificate-authority-data",
			ErrFileReference, chosen.Name, chosen.Cluster.CertificateAuthority)
	}
	// BuildConfigFromCP appends profile-sourced arguments and environment variables to the
	// provider's own ExecConfig, which the access.Config shares between calls: each call gets
	// a copy, or one profile's arguments would pile up in the next one's plugin command.
	own := make([]access.Provider, len(p.cfg.Providers))
	for i, pr := range p.cfg.Providers {
		pr.ExecConfig = pr.ExecConfig.DeepCopy()
		own[i] = pr
	}
	cfg, err := access.New(own).BuildConfigFromCP(cp)
	if err != nil {
		return nil, fmt.Errorf("%w: access provider %q: %s", ErrNoAccessProvider, chosen.Name, redact(err.Error()))
	}
	// v0.1.0 drops tls-server-name; without it a server whose certificate names another host
	// fails with an x509 error that does not point here.
	cfg.TLSClientConfig.ServerName = chosen.Cluster.TLSServerName
	return cfg, nil
}

// choose mirrors access.BuildConfigFromCP's rule (the first provider of the file that the
// profile offers) so that the checks and messages above talk about the provider it will use.
func (p *providers) choose(cp *v1alpha1.ClusterProfile) *v1alpha1.AccessProvider {
	for _, pr := range p.cfg.Providers {
		for i := range cp.Status.AccessProviders {
			if cp.Status.AccessProviders[i].Name == pr.Name {
				return &cp.Status.AccessProviders[i]
			}
		}
	}
	return nil
}
