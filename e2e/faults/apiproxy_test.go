package faults

import (
	"context"
	"encoding/json"
	"encoding/pem"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// apiProxy stands between one bosun replica and the API server: it keeps a log of every
// request (when it arrived, and when it was passed on or given up by its sender), and it can
// be cut like a network partition — requests in progress are broken off, new ones wait — and
// healed: the requests still waiting are then passed on, as a network that heals delivers
// what was sent into it, unless their sender gave up on them meanwhile.
type apiProxy struct {
	srv *httptest.Server
	rp  *httputil.ReverseProxy
	// kubeconfig makes a replica talk to the API server through the proxy.
	kubeconfig string

	mu       sync.Mutex
	up       chan struct{} // closed while requests pass
	inflight map[int]inflight
	next     int
	requests []*proxied
	cutOn    func(*http.Request) bool
	cut      chan struct{} // closed once the proxy was cut
	cutAt    time.Time
	// holdOn holds the requests it matches until released, which answers them as gone.
	holdOn   func(*http.Request) bool
	released chan struct{}
}

// inflight is a request passed on and not yet answered.
type inflight struct {
	r      *http.Request
	cancel context.CancelFunc
}

// proxied is one request that reached the proxy.
type proxied struct {
	method, path string
	arrived      time.Time
	forwarded    time.Time // passed on to the API server; zero if never
	dropped      time.Time // its sender gave up while it waited; zero if not
	status       int
}

type proxiedKey struct{}

// startAPIProxy starts a proxy to the test's API server on 127.0.0.1 (TLS, HTTP/2, its own
// certificate) that authenticates to the API server as the admin, and writes a kubeconfig for
// it. It is closed when the test ends, after the processes the test started later.
func startAPIProxy(t *testing.T) *apiProxy {
	t.Helper()
	cfg := env.RESTConfig()
	target, err := url.Parse(cfg.Host)
	if err != nil {
		t.Fatal(err)
	}
	upstream, err := rest.TransportFor(cfg)
	if err != nil {
		t.Fatal(err)
	}
	p := &apiProxy{up: make(chan struct{}), inflight: map[int]inflight{}, cut: make(chan struct{})}
	close(p.up)
	quiet := log.New(io.Discard, "", 0)
	p.rp = &httputil.ReverseProxy{
		Rewrite:       func(r *httputil.ProxyRequest) { r.SetURL(target) },
		Transport:     upstream,
		FlushInterval: -1, // watches stream
		ErrorLog:      quiet,
		ModifyResponse: func(resp *http.Response) error {
			if rec, ok := resp.Request.Context().Value(proxiedKey{}).(*proxied); ok {
				p.mu.Lock()
				rec.status = resp.StatusCode
				p.mu.Unlock()
			}
			return nil
		},
	}
	p.srv = httptest.NewUnstartedServer(p)
	p.srv.EnableHTTP2 = true
	p.srv.Config.ErrorLog = quiet
	p.srv.StartTLS()
	t.Cleanup(p.srv.Close)

	kc := clientcmdapi.NewConfig()
	kc.Clusters["proxy"] = &clientcmdapi.Cluster{
		Server:                   p.srv.URL,
		CertificateAuthorityData: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: p.srv.Certificate().Raw}),
	}
	kc.AuthInfos["proxy"] = &clientcmdapi.AuthInfo{}
	kc.Contexts["proxy"] = &clientcmdapi.Context{Cluster: "proxy", AuthInfo: "proxy"}
	kc.CurrentContext = "proxy"
	p.kubeconfig = filepath.Join(t.TempDir(), "kubeconfig")
	if err := clientcmd.WriteToFile(*kc, p.kubeconfig); err != nil {
		t.Fatal(err)
	}
	return p
}

func (p *apiProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &proxied{method: r.Method, path: r.URL.Path, arrived: time.Now()}
	p.mu.Lock()
	p.requests = append(p.requests, rec)
	if p.cutOn != nil && p.cutOn(r) {
		p.cutOn = nil
		p.cutLocked() // this request waits too
	}
	hold, released := p.holdOn, p.released
	p.mu.Unlock()
	if hold != nil && hold(r) {
		select {
		case <-released:
			gone(w)
		case <-r.Context().Done():
			p.mu.Lock()
			rec.dropped = time.Now()
			p.mu.Unlock()
		}
		return
	}

	ctx, cancel := context.WithCancel(context.WithValue(r.Context(), proxiedKey{}, rec))
	defer cancel()
	for {
		p.mu.Lock()
		up := p.up
		if isClosed(up) {
			id := p.next
			p.next++
			p.inflight[id] = inflight{r: r, cancel: cancel}
			rec.forwarded = time.Now()
			p.mu.Unlock()
			defer func() {
				p.mu.Lock()
				delete(p.inflight, id)
				p.mu.Unlock()
			}()
			break
		}
		p.mu.Unlock()
		select {
		case <-up:
		case <-r.Context().Done():
			p.mu.Lock()
			rec.dropped = time.Now()
			p.mu.Unlock()
			return
		}
	}
	p.rp.ServeHTTP(w, r.WithContext(ctx))
}

// cutWhen makes the proxy cut itself when a request matches, before passing that one on;
// match is called under the proxy's lock, in the order requests arrive.
func (p *apiProxy) cutWhen(match func(*http.Request) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cutOn = match
}

func (p *apiProxy) cutLocked() {
	if !isClosed(p.up) {
		return
	}
	p.up = make(chan struct{})
	for id, f := range p.inflight {
		f.cancel()
		delete(p.inflight, id)
	}
	p.cutAt = time.Now()
	close(p.cut)
}

// heal passes on the requests that wait, and every request from now on.
func (p *apiProxy) heal() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !isClosed(p.up) {
		close(p.up)
	}
}

// hold breaks off the requests in progress that match, and holds those that arrive from now on,
// as a watch that the network cut while the rest of the API passes.
func (p *apiProxy) hold(match func(*http.Request) bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.holdOn, p.released = match, make(chan struct{})
	for id, f := range p.inflight {
		if match(f.r) {
			f.cancel()
			delete(p.inflight, id)
		}
	}
}

// release answers the held requests 410 Gone ("too old resource version"), as an API server
// answers a watch that comes back after its resource version was compacted away, so that the
// informer must list again; requests from now on pass.
func (p *apiProxy) release() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.holdOn != nil {
		close(p.released)
		p.holdOn = nil
	}
}

func gone(w http.ResponseWriter) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusGone)
	_ = json.NewEncoder(w).Encode(metav1.Status{
		TypeMeta: metav1.TypeMeta{Kind: "Status", APIVersion: "v1"},
		Status:   metav1.StatusFailure, Code: http.StatusGone, Reason: metav1.StatusReasonExpired,
		Message: "too old resource version (held by the test's proxy)",
	})
}

// log returns a copy of the request log so far.
func (p *apiProxy) log() []proxied {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make([]proxied, len(p.requests))
	for i, r := range p.requests {
		out[i] = *r
	}
	return out
}

// mutating reports whether the request may change something.
func mutating(method string) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return false
	}
	return true
}

// isLease reports whether the request is about a coordination.k8s.io Lease (the election).
func isLease(path string) bool {
	return strings.Contains(path, "/apis/coordination.k8s.io/") && strings.Contains(path, "/leases")
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
