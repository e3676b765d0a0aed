package cli

import (
	"strings"
	"testing"
)

func TestInstanceNames(t *testing.T) {
	a, err := resolveInstance(RunOptions{ConfigPath: "/etc/team-a/watch.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	b, err := resolveInstance(RunOptions{ConfigPath: "/etc/team-b/watch.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	again, _ := resolveInstance(RunOptions{ConfigPath: "/etc/team-a/watch.yaml"})
	switch {
	case a == b:
		t.Errorf("two config files out of a cluster give one instance %q", a)
	case a != again:
		t.Errorf("one config file gives %q, then %q", a, again)
	case !strings.HasPrefix(a, "default/bosun@"):
		t.Errorf("default instance out of a cluster = %q, want default/bosun@<hash of the config path>", a)
	}
	if got, _ := resolveInstance(RunOptions{Instance: "team-a", ConfigPath: "/x"}); got != "team-a" {
		t.Errorf("--instance team-a gives %q", got)
	}
	if _, err := resolveInstance(RunOptions{Instance: "bad name!"}); err == nil {
		t.Errorf("--instance %q accepted", "bad name!")
	}
}
