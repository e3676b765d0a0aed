package clusters

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

func TestFromSecret(t *testing.T) {
	good := kubeconfig(t, "https://prod.example:6443", testToken)
	other := kubeconfig(t, "https://other.example:6443", "other-token")
	withUser := func(edit func(*clientcmdapi.AuthInfo)) []byte {
		return kubeconfig(t, "https://prod.example:6443", testToken, func(c *clientcmdapi.Config) { edit(c.AuthInfos["u"]) })
	}
	execUser := withUser(func(u *clientcmdapi.AuthInfo) {
		u.Token = ""
		u.Exec = &clientcmdapi.ExecConfig{APIVersion: "client.authentication.k8s.io/v1", Command: "aws", Args: []string{"eks", "get-token"}, InteractiveMode: clientcmdapi.NeverExecInteractiveMode}
	})
	tests := []struct {
		name      string
		data      map[string][]byte
		allowExec bool
		wantHost  string
		wantErr   error
		wantInErr string
	}{
		{name: "a kubeconfig under value gives a usable cluster",
			data: map[string][]byte{"value": good}, wantHost: "https://prod.example:6443"},
		{name: "a kubeconfig under value.yaml gives a usable cluster",
			data: map[string][]byte{"value.yaml": good}, wantHost: "https://prod.example:6443"},
		{name: "value wins when both keys are set",
			data: map[string][]byte{"value": good, "value.yaml": other}, wantHost: "https://prod.example:6443"},
		{name: "an empty value falls back to value.yaml",
			data: map[string][]byte{"value": {}, "value.yaml": other}, wantHost: "https://other.example:6443"},
		{name: "a Secret with neither key says where to put the kubeconfig",
			data: map[string][]byte{"kubeconfig": good}, wantErr: ErrNoKubeconfig,
			wantInErr: `Secret/bosun-system/prod: no kubeconfig: the Secret has no data key "value" or "value.yaml"; put the kubeconfig under "value"`},
		{name: "an exec plugin is refused by default",
			data: map[string][]byte{"value": execUser}, wantErr: ErrExecRefused,
			wantInErr: `Secret/bosun-system/prod: key "value": exec credentials refused: user "u" runs the exec credential plugin "aws"`},
		{name: "an exec plugin is used with AllowExec",
			data: map[string][]byte{"value": execUser}, allowExec: true, wantHost: "https://prod.example:6443"},
		{name: "an auth-provider is refused by default",
			data: map[string][]byte{"value": withUser(func(u *clientcmdapi.AuthInfo) {
				u.Token = ""
				u.AuthProvider = &clientcmdapi.AuthProviderConfig{Name: "oidc", Config: map[string]string{"id-token": testToken}}
			})}, wantErr: ErrExecRefused, wantInErr: `uses auth-provider "oidc"`},
		{name: "a relative certificate-authority asks for the data inline",
			data: map[string][]byte{"value": kubeconfig(t, "https://prod.example:6443", testToken, func(c *clientcmdapi.Config) {
				c.Clusters["c"].CertificateAuthority = "./ca.crt"
			})}, wantErr: ErrFileReference,
			wantInErr: `cluster "c" has certificate-authority: ./ca.crt, a file, which a kubeconfig in a Secret cannot use; inline it as certificate-authority-data`},
		{name: "an absolute tokenFile is refused, so bosun's own token cannot be sent away",
			data: map[string][]byte{"value": withUser(func(u *clientcmdapi.AuthInfo) {
				u.Token = ""
				u.TokenFile = "/var/run/secrets/kubernetes.io/serviceaccount/token"
			})}, wantErr: ErrFileReference, wantInErr: `inline it as token`},
		{name: "a client-key file is refused",
			data: map[string][]byte{"value": withUser(func(u *clientcmdapi.AuthInfo) {
				u.Token = ""
				u.ClientCertificate, u.ClientKey = "", "key.pem"
			})}, wantErr: ErrFileReference, wantInErr: `inline it as client-key-data`},
		{name: "a kubeconfig without current-context says to set it",
			data: map[string][]byte{"value": kubeconfig(t, "https://prod.example:6443", testToken, func(c *clientcmdapi.Config) {
				c.CurrentContext = ""
			})}, wantErr: ErrBadKubeconfig, wantInErr: "no current-context"},
		{name: "a cluster without server is refused rather than falling back to $KUBERNETES_MASTER",
			data: map[string][]byte{"value": kubeconfig(t, "", testToken)}, wantErr: ErrBadKubeconfig,
			wantInErr: `cluster "c" has no server`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := clusterSecret("prod", tt.data, map[string]string{"env": "prod"})
			c := fromSecret(s, tt.allowExec)
			if c.Name != "prod" || c.Source != "Secret/bosun-system/prod" || c.Labels["env"] != "prod" {
				t.Errorf("identity = %q %q %v", c.Name, c.Source, c.Labels)
			}
			if tt.wantErr != nil {
				if !errors.Is(c.Err, tt.wantErr) || c.Config != nil {
					t.Fatalf("Err = %v, Config %v; want %v and no Config", c.Err, c.Config != nil, tt.wantErr)
				}
				if !strings.Contains(c.Err.Error(), tt.wantInErr) {
					t.Errorf("Err = %q\nwant it to contain %q", c.Err, tt.wantInErr)
				}
				if strings.Contains(c.Err.Error(), testToken) {
					t.Errorf("Err carries the token: %q", c.Err)
				}
				return
			}
			if c.Err != nil || !c.Usable() {
				t.Fatalf("Err = %v", c.Err)
			}
			if c.Config.Host != tt.wantHost {
				t.Errorf("Host = %q, want %q", c.Config.Host, tt.wantHost)
			}
			if c.Revision == "" {
				t.Error("Revision is empty")
			}
			if got := c.Config.ExecProvider != nil; got != tt.allowExec {
				t.Errorf("ExecProvider set = %v, want %v", got, tt.allowExec)
			}
		})
	}
}

func TestBrokenKubeconfigErrorsCarryNoCredentials(t *testing.T) {
	broken := []string{
		"users:\n- name: u\n  user:\n    token: [" + testToken + "\n",
		"users:\n- name: u\n  user:\n\ttoken: " + testToken + "\n",
		"apiVersion: v1\nkind: " + testToken + "\n",
		"apiVersion: " + testToken + "\nkind: Config\n",
		"users:\n- name: u\n  user:\n    client-key-data: " + testToken + "!!\n",
		"users:\n- name: u\n  user:\n    token: \"" + testToken + "\n",
		testToken + ": x: y\n",
		"users: '" + testToken + "'\n",
		"password: p4ss-w0rd with spaces\nusers: 'p4ss-w0rd with spaces'\n",
	}
	for _, text := range broken {
		c := fromSecret(clusterSecret("prod", map[string][]byte{"value": []byte(text)}, nil), false)
		if !errors.Is(c.Err, ErrBadKubeconfig) {
			t.Errorf("Err = %v for %q; want ErrBadKubeconfig", c.Err, text)
			continue
		}
		msg := c.Err.Error()
		for _, secret := range []string{testToken, testToken[:40], "p4ss-w0rd"} {
			if strings.Contains(msg, secret) {
				t.Errorf("Err = %q carries a credential", msg)
			}
		}
		if !strings.HasPrefix(msg, `Secret/bosun-system/prod: key "value": invalid kubeconfig: `) {
			t.Errorf("Err = %q; want it to name the Secret and key first", msg)
		}
	}
}

func TestRevisionFollowsTheKubeconfig(t *testing.T) {
	rev := func(data []byte) string {
		return fromSecret(clusterSecret("prod", map[string][]byte{"value": data}, nil), false).Revision
	}
	a := kubeconfig(t, "https://prod.example:6443", "token-a")
	if rev(a) != rev(append([]byte(nil), a...)) {
		t.Error("the same kubeconfig gave two revisions")
	}
	if rev(a) == rev(kubeconfig(t, "https://prod.example:6443", "token-b")) {
		t.Error("a rotated token kept the revision")
	}
	if rev(a) == rev(kubeconfig(t, "https://moved.example:6443", "token-a")) {
		t.Error("a new server kept the revision")
	}
	if strings.Contains(rev(a), "token") {
		t.Errorf("revision %q shows the kubeconfig", rev(a))
	}
}

func TestRedact(t *testing.T) {
	tests := []struct{ in, want string }{
		{`yaml: line 6: did not find expected ',' or ']'`, `yaml: line 6: did not find expected '…' or '…'`},
		{`no kind "abc" is registered for version "v1"`, `no kind "…" is registered for version "…"`},
		{"cannot unmarshal !!str `secret` into map", "cannot unmarshal !!str `…` into map"},
		{"couldn't get version/kind", "couldn't get version/kind"},
		{"illegal base64 data at input byte 36", "illegal base64 data at input byte 36"},
		{"value " + testToken + " is bad", "value [redacted] is bad"},
		{`open "unterminated secret stuff`, `open [redacted]`},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, redact(tt.in)); diff != "" {
			t.Errorf("redact(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}
