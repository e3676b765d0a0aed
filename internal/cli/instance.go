package cli

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path/filepath"
	"regexp"
)

// instancePattern is what --instance accepts: it is an annotation value that people read and
// grep for, so letters, digits and . _ - / inside.
var instancePattern = regexp.MustCompile(`^[A-Za-z0-9]([A-Za-z0-9._/-]{0,251}[A-Za-z0-9])?$`)

// resolveInstance is the installation's name: --instance, or else the namespace and name of its
// Lease (--leader-election-namespace, by default the pod's, and --leader-election-id), which
// two installations in one cluster already keep apart. Out of a cluster (no service account)
// every bosun would get default/bosun, so the config's path is added: two bosuns a team runs
// from two config files on one machine are two installations. It is written on every owner
// bosun reconciles (bosun.dev/instance), and bosun lets go only owners that carry its own.
func resolveInstance(o RunOptions) (string, error) {
	if o.Instance != "" {
		if !instancePattern.MatchString(o.Instance) {
			return "", fmt.Errorf("--instance %q: want 1 to 253 letters, digits, '.', '_', '-' or '/', starting and ending with a letter or digit", o.Instance)
		}
		return o.Instance, nil
	}
	ns, inCluster := serviceAccountNamespace()
	if o.LeaderElection.Namespace != "" {
		ns = o.LeaderElection.Namespace
	}
	name := o.LeaderElection.Name
	if name == "" {
		name = "bosun"
	}
	if inCluster {
		return ns + "/" + name, nil
	}
	path, err := filepath.Abs(o.ConfigPath)
	if err != nil {
		return "", fmt.Errorf("--config %s: %w", o.ConfigPath, err)
	}
	sum := sha256.Sum256([]byte(path))
	return ns + "/" + name + "@" + hex.EncodeToString(sum[:4]), nil
}
