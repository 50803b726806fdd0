package vaultcheck

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
)

// vaultURL is the parsed server address with the host:port every
// connection (operator or node) goes to.
type vaultURL struct {
	*url.URL
	hostPort string
	useTLS   bool
}

// parseServer accepts http(s)://host[:port]; a missing port is the scheme's
// default, as the nodes' HTTP client would use.
func parseServer(s string) (*vaultURL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return nil, fmt.Errorf("vault server %q is not an http(s)://host:port URL", s)
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"https": "443", "http": "80"}[u.Scheme]
	}
	return &vaultURL{URL: u, hostPort: net.JoinHostPort(u.Hostname(), port), useTLS: u.Scheme == "https"}, nil
}

// tlsConfig builds the verifying TLS configuration shared by the operator
// and node checks: the CA from the inventory or VAULT_CACERT/VAULT_CAPATH,
// else the system roots. Verification is never skipped.
func (r *resolved) tlsConfig(u *vaultURL) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: r.TLSServerName}
	if cfg.ServerName == "" {
		cfg.ServerName = u.Hostname()
	}
	switch {
	case r.CACertFile != "":
		pool := x509.NewCertPool()
		if err := addPEMFile(pool, r.CACertFile); err != nil {
			return nil, fmt.Errorf("CA certificate %s (from %s): %w", r.CACertFile, r.caSource, err)
		}
		cfg.RootCAs = pool
	case r.caPath != "":
		pool, err := poolFromDir(r.caPath)
		if err != nil {
			return nil, fmt.Errorf("CA directory %s (from VAULT_CAPATH): %w", r.caPath, err)
		}
		cfg.RootCAs = pool
	}
	return cfg, nil
}

// addPEMFile adds every certificate of a PEM file; a file without any is an
// error, since it would silently trust nothing.
func addPEMFile(pool *x509.CertPool, path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !pool.AppendCertsFromPEM(data) {
		return fmt.Errorf("no PEM certificate found")
	}
	return nil
}

// poolFromDir loads every PEM file of a directory, like VAULT_CAPATH does.
func poolFromDir(dir string) (*x509.CertPool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	pool, n := x509.NewCertPool(), 0
	for _, e := range entries {
		if e.IsDir() {
			continue
		}
		if addPEMFile(pool, filepath.Join(dir, e.Name())) == nil {
			n++
		}
	}
	if n == 0 {
		return nil, fmt.Errorf("no PEM certificate found")
	}
	return pool, nil
}
