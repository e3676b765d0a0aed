package cli

import (
	"bytes"
	"context"
	"testing"
	"time"
)

func TestExplainSaysWhyAnOwnerIsWhereItIs(t *testing.T) {
	tests := []struct {
		name      string
		arg       string
		opts      explainOptions
		golden    string
		wantReady bool
	}{
		{
			name:   "an owner waiting for a child, on an older template version, with hooks run, a prune, a stale child and Events",
			arg:    "site/team-a/shop",
			opts:   explainOptions{ConfigPath: getWatchFile},
			golden: "testdata/explain/shop.txt",
		},
		{
			name:   "an owner its templates fail for, explained without --config",
			arg:    "Site/broken",
			golden: "testdata/explain/broken.txt",
		},
		{
			name:   "an owner being deleted waits for bosun's finalizer while its children go",
			arg:    "sites.example.bosun.dev/team-a/gone",
			opts:   explainOptions{ConfigPath: getWatchFile},
			golden: "testdata/explain/gone.txt",
		},
		{
			name:   "a paused owner",
			arg:    "Site.example.bosun.dev/team-a/paused",
			golden: "testdata/explain/paused.txt",
		},
		{
			name:      "children in a workload cluster are shown as recorded, not read",
			arg:       "site/edge",
			opts:      explainOptions{ConfigPath: getWatchFile, Namespace: "team-b"},
			golden:    "testdata/explain/edge.txt",
			wantReady: true,
		},
		{
			name:   "-o json prints the documented schema",
			arg:    "site/team-a/shop",
			opts:   explainOptions{ConfigPath: getWatchFile, Output: "json"},
			golden: "testdata/explain/shop.json",
		},
		{
			name:      "-o yaml prints the same as YAML",
			arg:       "site/team-a/web",
			opts:      explainOptions{ConfigPath: getWatchFile, Output: "yaml"},
			golden:    "testdata/explain/web.yaml",
			wantReady: true,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCluster(t)
			o := tc.opts
			o.now = func() time.Time { return testNow }
			var out bytes.Buffer
			ready, err := runExplain(context.Background(), o, c.clients, tc.arg, &out)
			if err != nil {
				t.Fatal(err)
			}
			if ready != tc.wantReady {
				t.Errorf("ready = %v, want %v", ready, tc.wantReady)
			}
			golden(t, tc.golden, out.String())
		})
	}
}

func TestExplainResolvesTheOwnerOrSaysWhyNot(t *testing.T) {
	tests := []struct {
		name    string
		arg     string
		opts    explainOptions
		wantErr string
	}{
		{name: "the kind in lower case", arg: "site/team-a/web"},
		{name: "the plural resource", arg: "sites/team-a/web"},
		{name: "the kind with its group", arg: "Site.example.bosun.dev/team-a/web"},
		{name: "the resource with version and group", arg: "sites.v1.example.bosun.dev/team-a/web"},
		{name: "a watched kind of --config", arg: "SITE/team-a/web", opts: explainOptions{ConfigPath: getWatchFile}},
		{name: "KIND/NAME in the context's namespace", arg: "site/web"},
		{name: "too many parts", arg: "site/team-a/web/x", wantErr: `"site/team-a/web/x": want KIND/NAMESPACE/NAME or KIND/NAME, e.g. site/team-a/web`},
		{name: "an empty part", arg: "site//web", wantErr: `"site//web": want KIND/NAMESPACE/NAME or KIND/NAME, e.g. site/team-a/web`},
		{name: "a kind nobody serves", arg: "gadget/team-a/web", wantErr: `kind "gadget" is not served by the API server (is its CRD installed? kubectl api-resources lists what is)`},
		{name: "an owner that does not exist", arg: "site/team-a/nope", wantErr: "Site/team-a/nope: not found"},
		{name: "a namespace for a cluster-scoped kind", arg: "namespace/team-a/web", wantErr: "namespace/team-a/web: kind Namespace is cluster-scoped: name it namespace/NAME"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := newTestCluster(t)
			o := tc.opts
			o.now = func() time.Time { return testNow }
			var out bytes.Buffer
			_, err := runExplain(context.Background(), o, c.clients, tc.arg, &out)
			switch {
			case tc.wantErr == "" && err != nil:
				t.Fatal(err)
			case tc.wantErr != "" && (err == nil || err.Error() != tc.wantErr):
				t.Fatalf("error = %v, want %s", err, tc.wantErr)
			case tc.wantErr == "" && !bytes.HasPrefix(out.Bytes(), []byte("Site/team-a/web\n")):
				t.Errorf("explained another owner:\n%s", out.String())
			}
		})
	}
}
