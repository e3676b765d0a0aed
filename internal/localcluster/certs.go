package localcluster

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// serviceCIDR is a /16: a /24 runs out after 254 Services, which a long test run reaches.
const (
	serviceCIDR     = "10.96.0.0/16"
	firstServiceIP  = "10.96.0.1"
	certValidity    = 10 * 365 * 24 * time.Hour
	pkiDirName      = "pki"
	adminCommonName = "bosun-admin"
)

// pki holds the paths of the files the components read and the PEM the clients need.
type pki struct {
	dir string
	// PEM contents for the admin rest.Config and kubeconfig.
	caPEM, adminCertPEM, adminKeyPEM []byte
}

func (p pki) path(name string) string { return filepath.Join(p.dir, name) }

func (p pki) caCert() string      { return p.path("ca.crt") }
func (p pki) caKey() string       { return p.path("ca.key") }
func (p pki) servingCert() string { return p.path("apiserver.crt") }
func (p pki) servingKey() string  { return p.path("apiserver.key") }
func (p pki) adminCert() string   { return p.path("admin.crt") }
func (p pki) adminKey() string    { return p.path("admin.key") }
func (p pki) saKey() string       { return p.path("sa.key") }
func (p pki) saPub() string       { return p.path("sa.pub") }

func (p pki) files() []string {
	return []string{p.caCert(), p.caKey(), p.servingCert(), p.servingKey(), p.adminCert(), p.adminKey(), p.saKey(), p.saPub()}
}

// loadOrCreatePKI reuses the certificates in dir when all are there (so a kubeconfig from an
// earlier run keeps working against data kept in etcd) and generates a fresh set otherwise.
func loadOrCreatePKI(dir string) (pki, error) {
	p := pki{dir: filepath.Join(dir, pkiDirName)}
	complete := true
	for _, f := range p.files() {
		if _, err := os.Stat(f); err != nil {
			complete = false
			break
		}
	}
	if !complete {
		if err := p.generate(); err != nil {
			return pki{}, fmt.Errorf("pki %s: %w", p.dir, err)
		}
	}
	var errs [3]error
	p.caPEM, errs[0] = os.ReadFile(p.caCert())
	p.adminCertPEM, errs[1] = os.ReadFile(p.adminCert())
	p.adminKeyPEM, errs[2] = os.ReadFile(p.adminKey())
	if err := errors.Join(errs[:]...); err != nil {
		return pki{}, fmt.Errorf("pki %s: %w", p.dir, err)
	}
	return p, nil
}

func (p pki) generate() error {
	if err := os.MkdirAll(p.dir, 0o700); err != nil {
		return err
	}
	caKey, err := newKey()
	if err != nil {
		return err
	}
	caTmpl := &x509.Certificate{
		Subject:               pkix.Name{CommonName: "bosun-local-ca"},
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := sign(caTmpl, caKey.Public(), nil, caKey)
	if err != nil {
		return fmt.Errorf("ca: %w", err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		return fmt.Errorf("ca: %w", err)
	}

	servingKey, err := newKey()
	if err != nil {
		return err
	}
	servingDER, err := sign(&x509.Certificate{
		Subject:     pkix.Name{CommonName: "kube-apiserver"},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames: []string{"localhost", "kubernetes", "kubernetes.default", "kubernetes.default.svc",
			"kubernetes.default.svc.cluster", "kubernetes.default.svc.cluster.local"},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1"), net.ParseIP(firstServiceIP)},
	}, servingKey.Public(), ca, caKey)
	if err != nil {
		return fmt.Errorf("serving certificate: %w", err)
	}

	adminKey, err := newKey()
	if err != nil {
		return err
	}
	adminDER, err := sign(&x509.Certificate{
		Subject:     pkix.Name{CommonName: adminCommonName, Organization: []string{"system:masters"}},
		KeyUsage:    x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth},
	}, adminKey.Public(), ca, caKey)
	if err != nil {
		return fmt.Errorf("admin certificate: %w", err)
	}

	saKey, err := newKey()
	if err != nil {
		return err
	}

	files := []struct {
		path string
		pem  func() ([]byte, error)
	}{
		{p.caCert(), certPEM(caDER)},
		{p.caKey(), keyPEM(caKey)},
		{p.servingCert(), certPEM(servingDER)},
		{p.servingKey(), keyPEM(servingKey)},
		{p.adminCert(), certPEM(adminDER)},
		{p.adminKey(), keyPEM(adminKey)},
		{p.saKey(), keyPEM(saKey)},
		{p.saPub(), pubPEM(saKey.Public())},
	}
	for _, f := range files {
		b, err := f.pem()
		if err != nil {
			return fmt.Errorf("%s: %w", f.path, err)
		}
		if err := os.WriteFile(f.path, b, 0o600); err != nil {
			return err
		}
	}
	return nil
}

// newKey makes ECDSA P-256 keys: generating them takes microseconds where RSA takes a
// noticeable part of a test's start-up, and every component accepts them.
func newKey() (*ecdsa.PrivateKey, error) {
	return ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
}

// sign signs tmpl with the CA, or self-signs it when ca is nil.
func sign(tmpl *x509.Certificate, pub crypto.PublicKey, ca *x509.Certificate, caKey crypto.Signer) ([]byte, error) {
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, err
	}
	tmpl.SerialNumber = serial
	// Backdated a little so a freshly made certificate is valid despite small clock skew.
	tmpl.NotBefore = time.Now().Add(-time.Hour)
	tmpl.NotAfter = time.Now().Add(certValidity)
	if ca == nil {
		ca = tmpl
	}
	return x509.CreateCertificate(rand.Reader, tmpl, ca, pub, caKey)
}

func certPEM(der []byte) func() ([]byte, error) {
	return func() ([]byte, error) {
		return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), nil
	}
}

func keyPEM(k *ecdsa.PrivateKey) func() ([]byte, error) {
	return func() ([]byte, error) {
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: der}), nil
	}
}

func pubPEM(k crypto.PublicKey) func() ([]byte, error) {
	return func() ([]byte, error) {
		der, err := x509.MarshalPKIXPublicKey(k)
		if err != nil {
			return nil, err
		}
		return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
	}
}
