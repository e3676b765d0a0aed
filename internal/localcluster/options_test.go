package localcluster_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/bosun-dev/bosun/internal/localcluster"
)

func TestDefaultBinDirMatchesVersionsScript(t *testing.T) {
	t.Setenv("HOME", "/home/someone")
	t.Setenv("XDG_CACHE_HOME", "")
	t.Setenv("BOSUN_TOOLS_DIR", "")
	out, err := exec.Command("bash", "-c", "source ../../hack/versions.sh && bosun_tools_dir").Output()
	if err != nil {
		t.Fatalf("hack/versions.sh: %v", err)
	}
	if diff := cmp.Diff(strings.TrimSpace(string(out)), localcluster.DefaultBinDir()); diff != "" {
		t.Errorf("bin dir (-versions.sh +localcluster):\n%s", diff)
	}
}

func TestResolveBinDir(t *testing.T) {
	cache := t.TempDir()
	built := filepath.Join(cache, "bosun", "tools", filepath.Base(localcluster.DefaultBinDir()))
	tests := []struct {
		name        string
		binDir      string
		toolsDir    string
		assets      string
		cacheExists bool
		want        string
	}{
		{name: "the option wins over everything", binDir: "/opt", toolsDir: "/tools", assets: "/assets", cacheExists: true, want: "/opt"},
		{name: "BOSUN_TOOLS_DIR wins over the cache", toolsDir: "/tools", assets: "/assets", cacheExists: true, want: "/tools"},
		{name: "the built cache wins over KUBEBUILDER_ASSETS", assets: "/assets", cacheExists: true, want: built},
		{name: "KUBEBUILDER_ASSETS is used when nothing was built", assets: "/assets", want: "/assets"},
		{name: "the cache is named when nothing is there", want: built},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("XDG_CACHE_HOME", cache)
			t.Setenv("BOSUN_TOOLS_DIR", tt.toolsDir)
			t.Setenv("KUBEBUILDER_ASSETS", tt.assets)
			os.RemoveAll(built)
			if tt.cacheExists {
				if err := os.MkdirAll(built, 0o755); err != nil {
					t.Fatal(err)
				}
			}
			got := localcluster.Options{BinDir: tt.binDir}.ResolveBinDir()
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("bin dir (-want +got):\n%s", diff)
			}
		})
	}
}

func TestStartRefusesBadOptionsAndMissingBinaries(t *testing.T) {
	full := localcluster.Options{ControllerManager: true, Scheduler: true, Kwok: true}
	tests := []struct {
		name        string
		opts        localcluster.Options
		present     []string
		wantMissing []string
		wantErr     string
	}{
		{
			name:        "an empty bin dir names both core binaries",
			wantMissing: []string{"etcd", "kube-apiserver"},
		},
		{
			name:        "a full cluster names each missing binary and kwok's stage configs",
			opts:        full,
			present:     []string{"etcd", "kube-apiserver", "kube-scheduler"},
			wantMissing: []string{"kube-controller-manager", "kwok", "kwok-stages/node-initialize.yaml", "kwok-stages/node-heartbeat.yaml", "kwok-stages/pod-ready.yaml", "kwok-stages/pod-complete.yaml", "kwok-stages/pod-delete.yaml"},
		},
		{
			name:    "kwok without the controller manager and scheduler is refused",
			opts:    localcluster.Options{Kwok: true},
			wantErr: "options: Kwok requires ControllerManager and Scheduler",
		},
		{
			name:    "minimal controllers without the controller manager are refused",
			opts:    localcluster.Options{MinimalControllers: true},
			wantErr: "options: MinimalControllers requires ControllerManager",
		},
		{
			name:    "kwok with minimal controllers is refused",
			opts:    localcluster.Options{ControllerManager: true, Scheduler: true, Kwok: true, MinimalControllers: true},
			wantErr: "options: Kwok requires the full controller set, not MinimalControllers",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			binDir := t.TempDir()
			for _, b := range tt.present {
				if err := os.WriteFile(filepath.Join(binDir, b), []byte("#!/bin/sh\nexit 1\n"), 0o755); err != nil {
					t.Fatal(err)
				}
			}
			o := tt.opts
			o.Dir, o.BinDir = t.TempDir(), binDir
			c, err := localcluster.Start(context.Background(), o)
			if err == nil {
				c.Stop()
				t.Fatal("Start succeeded, want an error")
			}
			if tt.wantErr != "" {
				if diff := cmp.Diff(tt.wantErr, err.Error()); diff != "" {
					t.Errorf("error (-want +got):\n%s", diff)
				}
				return
			}
			var missing *localcluster.MissingBinariesError
			if !errors.As(err, &missing) {
				t.Fatalf("error %v is not a *MissingBinariesError", err)
			}
			if diff := cmp.Diff(tt.wantMissing, missing.Missing); diff != "" {
				t.Errorf("missing (-want +got):\n%s", diff)
			}
			for _, want := range []string{binDir, "hack/build-tools.sh", tt.wantMissing[0]} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not mention %q", err, want)
				}
			}
		})
	}
}
