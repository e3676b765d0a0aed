package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"time"

	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// countingProxy sits between bosun and the API server and counts every request by verb,
// resource and response code. kube-apiserver's own request metrics cannot tell one client from
// another, and bosun's client metrics (if the binary has them) know the HTTP verb but not the
// resource. It speaks TLS and HTTP/2 like the API server, so bosun's client does the same work
// as against a real cluster; upstream it authenticates as the cluster admin.
type countingProxy struct {
	srv        *http.Server
	url        string
	caPEM      []byte
	kubeconfig string

	mu     sync.Mutex
	counts map[reqKey]int
}

// reqKey is one kind of request: verb (GET, LIST, WATCH, CREATE, UPDATE, PATCH, APPLY, DELETE,
// DELETECOLLECTION, DISCOVERY), resource (with subresource: "sites/status") and status code.
// Code 0 counts every request as it starts (a watch is counted while it runs); the other
// codes count the answers that were not 2xx.
type reqKey struct {
	Verb, Resource string
	Code           int
}

func startProxy(upstream *rest.Config, kubeconfigPath string) (*countingProxy, error) {
	target, err := url.Parse(upstream.Host)
	if err != nil {
		return nil, fmt.Errorf("proxy: upstream %s: %w", upstream.Host, err)
	}
	transport, err := rest.TransportFor(upstream)
	if err != nil {
		return nil, fmt.Errorf("proxy: upstream transport: %w", err)
	}
	cert, caPEM, err := selfSigned()
	if err != nil {
		return nil, fmt.Errorf("proxy: certificate: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("proxy: listen: %w", err)
	}
	p := &countingProxy{url: "https://" + ln.Addr().String(), caPEM: caPEM, kubeconfig: kubeconfigPath, counts: map[reqKey]int{}}
	rp := &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(target)
			r.Out.Host = target.Host
		},
		Transport:     transport,
		FlushInterval: -1, // watches stream
		ErrorLog:      log.New(io.Discard, "", 0),
	}
	p.srv = &http.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { p.serve(rp, w, r) }),
		TLSConfig:         &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12},
		ReadHeaderTimeout: 30 * time.Second,
		ErrorLog:          log.New(io.Discard, "", 0),
	}
	go func() { _ = p.srv.ServeTLS(ln, "", "") }()
	if err := p.writeKubeconfig(); err != nil {
		p.close()
		return nil, err
	}
	return p, nil
}

func (p *countingProxy) serve(rp *httputil.ReverseProxy, w http.ResponseWriter, r *http.Request) {
	verb, res := classify(r)
	p.mu.Lock()
	p.counts[reqKey{verb, res, 0}]++
	p.mu.Unlock()
	cw := &codeWriter{ResponseWriter: w}
	rp.ServeHTTP(cw, r)
	if cw.code >= 300 {
		p.mu.Lock()
		p.counts[reqKey{verb, res, cw.code}]++
		p.mu.Unlock()
	}
}

// snapshot returns the counts so far; phases subtract two snapshots.
func (p *countingProxy) snapshot() map[reqKey]int {
	if p == nil {
		return nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	out := make(map[reqKey]int, len(p.counts))
	for k, v := range p.counts {
		out[k] = v
	}
	return out
}

func (p *countingProxy) close() {
	_ = p.srv.Close()
}

func (p *countingProxy) writeKubeconfig() error {
	if err := clientcmd.WriteToFile(p.kubeconfigConfig(), p.kubeconfig); err != nil {
		return fmt.Errorf("proxy: kubeconfig %s: %w", p.kubeconfig, err)
	}
	return nil
}

// kubeconfigData is the proxy's kubeconfig, the contents of the file it wrote: its CA inline
// and no credentials (the proxy authenticates upstream), so it can go into a cluster Secret.
func (p *countingProxy) kubeconfigData() ([]byte, error) {
	data, err := clientcmd.Write(p.kubeconfigConfig())
	if err != nil {
		return nil, fmt.Errorf("proxy: kubeconfig: %w", err)
	}
	return data, nil
}

func (p *countingProxy) kubeconfigConfig() clientcmdapi.Config {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["bench"] = &clientcmdapi.Cluster{Server: p.url, CertificateAuthorityData: p.caPEM}
	cfg.AuthInfos["bench"] = &clientcmdapi.AuthInfo{}
	cfg.Contexts["bench"] = &clientcmdapi.Context{Cluster: "bench", AuthInfo: "bench"}
	cfg.CurrentContext = "bench"
	return *cfg
}

// codeWriter records the status code; Unwrap lets the reverse proxy flush watch events
// through it.
type codeWriter struct {
	http.ResponseWriter
	code int
}

func (c *codeWriter) WriteHeader(code int) {
	if c.code == 0 {
		c.code = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *codeWriter) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// classify names a request the way kube-apiserver's metrics do.
func classify(r *http.Request) (verb, res string) {
	parts := strings.Split(strings.Trim(r.URL.Path, "/"), "/")
	var rest []string
	switch {
	case len(parts) >= 2 && parts[0] == "api":
		rest = parts[2:]
	case len(parts) >= 3 && parts[0] == "apis":
		rest = parts[3:]
	}
	if len(rest) == 0 {
		return "DISCOVERY", ""
	}
	if rest[0] == "namespaces" && len(rest) >= 3 {
		rest = rest[2:]
	}
	res = rest[0]
	name := ""
	if len(rest) > 1 {
		name = rest[1]
	}
	if len(rest) > 2 {
		res += "/" + rest[2]
	}
	switch r.Method {
	case http.MethodGet:
		switch {
		case r.URL.Query().Get("watch") == "true" || r.URL.Query().Get("watch") == "1":
			return "WATCH", res
		case name == "":
			return "LIST", res
		}
		return "GET", res
	case http.MethodPost:
		return "CREATE", res
	case http.MethodPut:
		return "UPDATE", res
	case http.MethodPatch:
		if strings.HasPrefix(r.Header.Get("Content-Type"), "application/apply-patch") {
			return "APPLY", res
		}
		return "PATCH", res
	case http.MethodDelete:
		if name == "" {
			return "DELETECOLLECTION", res
		}
		return "DELETE", res
	}
	return r.Method, res
}

func isWrite(verb string) bool {
	switch verb {
	case "CREATE", "UPDATE", "PATCH", "APPLY", "DELETE", "DELETECOLLECTION":
		return true
	}
	return false
}

func isRead(verb string) bool { return verb == "GET" || verb == "LIST" }

// selfSigned makes the proxy's serving certificate for 127.0.0.1; it is its own CA.
func selfSigned() (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: "bosun-bench-proxy"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(7 * 24 * time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	return cert, certPEM, err
}
