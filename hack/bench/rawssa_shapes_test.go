package main

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"sigs.k8s.io/yaml"

	"github.com/bosun-dev/bosun/renderer"
)

// The bodies rawssa applies for owner p7 (../shared/tools/rawssa, main.go: probeChildren and
// siteChildren, message "hello"): the -vs-rawssa ratios are only fair while bosun renders the same.
const rawssaLight7 = `
- {apiVersion: v1, kind: ConfigMap, metadata: {name: p7-cm}, data: {message: hello, upper: HELLO}}
- {apiVersion: v1, kind: Service, metadata: {name: p7-svc},
   spec: {selector: {app: p7}, ports: [{port: 80, targetPort: 8080}]}}
`

const rawssaSite7 = `
- {apiVersion: v1, kind: ConfigMap, metadata: {name: site-7, labels: {app: site-7}}, data: {message: hello}}
- apiVersion: apps/v1
  kind: Deployment
  metadata: {name: site-7, labels: {app: site-7}}
  spec:
    replicas: 1
    selector: {matchLabels: {app: site-7}}
    template:
      metadata: {labels: {app: site-7}}
      spec: {containers: [{name: web, image: "nginx:1.27", ports: [{containerPort: 8080}]}]}
- apiVersion: v1
  kind: Service
  metadata: {name: site-7, labels: {app: site-7}}
  spec: {selector: {app: site-7}, ports: [{port: 80, targetPort: 8080}]}
`

func TestRawssaTestdataRendersRawssasBodies(t *testing.T) {
	for _, tc := range []struct{ dir, want string }{
		{"rawssa", rawssaLight7},
		{"rawssa-site", rawssaSite7},
	} {
		r, err := renderer.New([]string{filepath.Join("testdata", tc.dir, "templates")}, renderer.Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.dir, err)
		}
		objs, err := r.Render(context.Background(), newLight(7))
		if err != nil {
			t.Fatalf("%s: render: %v", tc.dir, err)
		}
		var got []any
		for _, o := range objs {
			o.SetNamespace("") // rawssa's bodies name bench-7; bosun sets the owner's at apply
			got = append(got, o.Object)
		}
		var want []any
		if err := yaml.Unmarshal([]byte(tc.want), &want); err != nil {
			t.Fatal(err)
		}
		gj, _ := yaml.Marshal(got)
		wj, _ := yaml.Marshal(want)
		var g, w any
		_ = yaml.Unmarshal(gj, &g)
		_ = yaml.Unmarshal(wj, &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("%s renders\n%s\nwant rawssa's\n%s", tc.dir, gj, wj)
		}
	}
}
