package cli

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/yaml"
)

// The generated files of examples/deploy/base, made from examples/deploy/config. Regenerate them
// with go test ./internal/cli -update.
const (
	deployDir       = "../../examples/deploy"
	deployBaseDir   = deployDir + "/base"
	deployConfigDir = deployDir + "/config"
	// deployMount is where base/deployment.yaml mounts what config/ holds.
	deployMount = "/etc/bosun"
)

// deployConfigMaps are the ConfigMaps of base/configmap.yaml: one per directory of config/, each
// mounted at the same path below deployMount, so that the watch configs' relative template
// paths hold in the pod as they do in the repository.
var deployConfigMaps = []struct{ name, dir string }{
	{"bosun-watches", "watches"},
	{"bosun-templates-character", "templates/character"},
	{"bosun-templates-expose", "templates/expose"},
	{"bosun-templates-site", "templates/site"},
}

func TestDeployRBACIsWhatBosunRBACPrints(t *testing.T) {
	stdout, stderr, code := bosun(t, "", "rbac", "--config", deployConfigDir+"/watches")
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr:\n%s", code, stderr)
	}
	golden(t, deployBaseDir+"/rbac.yaml", stdout)
}

func TestDeployConfigMapsHoldTheFilesOfConfig(t *testing.T) {
	var b strings.Builder
	b.WriteString("# The watch configs and templates of ../config/, as deployment.yaml mounts them below /etc/bosun/.\n")
	b.WriteString("# Generated from ../config/ by go test ./internal/cli -update; do not edit.\n")
	for _, cm := range deployConfigMaps {
		obj := corev1.ConfigMap{
			TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
			ObjectMeta: metav1.ObjectMeta{Name: cm.name, Namespace: "bosun", Labels: map[string]string{"app.kubernetes.io/name": "bosun"}},
			Data:       readDir(t, filepath.Join(deployConfigDir, cm.dir)),
		}
		y, err := yaml.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "---\n%s", strings.Replace(string(y), "  creationTimestamp: null\n", "", 1))
	}
	golden(t, deployBaseDir+"/configmap.yaml", b.String())
}

func TestDeploymentMountsEveryConfigMapWhereTheConfigsExpectIt(t *testing.T) {
	data, err := os.ReadFile(deployBaseDir + "/deployment.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var d appsv1.Deployment
	if err := yaml.UnmarshalStrict(data, &d); err != nil {
		t.Fatalf("deployment.yaml: %v", err)
	}
	want := map[string]string{}
	for _, cm := range deployConfigMaps {
		want[cm.name] = deployMount + "/" + cm.dir
	}
	got := map[string]string{}
	pod := d.Spec.Template.Spec
	for _, v := range pod.Volumes {
		if v.ConfigMap == nil {
			continue
		}
		for _, m := range pod.Containers[0].VolumeMounts {
			if m.Name == v.Name {
				got[v.ConfigMap.Name] = m.MountPath
			}
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ConfigMap mounts of deployment.yaml (-want +got):\n%s", diff)
	}
	if args := pod.Containers[0].Args; len(args) < 2 || args[1] != "--config="+deployMount+"/watches" {
		t.Errorf("args %q: want run --config=%s/watches", args, deployMount)
	}
}

// readDir reads the regular files directly inside dir, by name.
func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	files := map[string]string{}
	var names []string
	for _, e := range entries {
		if e.IsDir() {
			t.Fatalf("%s: a ConfigMap holds no directories, found %s", dir, e.Name())
		}
		names = append(names, e.Name())
	}
	sort.Strings(names)
	for _, name := range names {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		files[name] = string(b)
	}
	return files
}
