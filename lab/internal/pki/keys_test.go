package pki

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"aead.dev/mtls"
	"golang.org/x/crypto/ssh"
)

func TestAPIKeyIdentityMatchesMTLS(t *testing.T) {
	k, err := NewAPIKey()
	if err != nil {
		t.Fatal(err)
	}
	parsed, err := mtls.ParsePrivateKey(k.Key)
	if err != nil {
		t.Fatalf("parse %q: %v", k.Key[:3], err)
	}
	if got := parsed.Identity().String(); got != k.Identity || !strings.HasPrefix(got, "h1:") {
		t.Fatalf("identity %q, want %q with h1: prefix", got, k.Identity)
	}
}

func TestHSMKeyFormat(t *testing.T) {
	k, err := NewHSMKey()
	if err != nil {
		t.Fatal(err)
	}
	raw, ok := strings.CutPrefix(k, "hsm:aes256:")
	if !ok || len(raw) != 44 || len(k) != 55 {
		t.Fatalf("bad key shape (len %d)", len(k))
	}
	b, err := base64.StdEncoding.DecodeString(raw)
	if err != nil || len(b) != 32 {
		t.Fatalf("decode: %v, %d bytes", err, len(b))
	}
}

func TestSSHKeyParses(t *testing.T) {
	k, err := NewSSHKey("test")
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.ParsePrivateKey(k.PrivatePEM)
	if err != nil {
		t.Fatal(err)
	}
	want := string(ssh.MarshalAuthorizedKey(signer.PublicKey()))
	if want != k.Authorized+"\n" || !strings.HasPrefix(k.Authorized, "ssh-ed25519 ") {
		t.Fatalf("authorized line %q does not match private key", k.Authorized)
	}
}

func TestIssueVerifiesAgainstSavedCA(t *testing.T) {
	ca, err := NewCA()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "ca.pem"), filepath.Join(dir, "ca.key")
	if err := ca.Save(certFile, keyFile); err != nil {
		t.Fatal(err)
	}
	loaded, err := LoadCA(certFile, keyFile)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := loaded.Issue("kms-1", []string{"kms-1"}, []net.IP{net.ParseIP("10.213.0.11")})
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca.CertPEM)
	cases := []struct {
		name string
		ok   bool
	}{{"10.213.0.11", true}, {"kms-1", true}, {"10.213.0.12", false}}
	for _, c := range cases {
		cert := parseCert(t, leaf.CertPEM)
		_, err := cert.Verify(x509.VerifyOptions{Roots: pool, DNSName: c.name})
		if (err == nil) != c.ok {
			t.Errorf("verify %s: err=%v, want ok=%v", c.name, err, c.ok)
		}
	}
}

func parseCert(t *testing.T, p []byte) *x509.Certificate {
	t.Helper()
	block, _ := pemDecode(p)
	c, err := x509.ParseCertificate(block)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func pemDecode(p []byte) ([]byte, []byte) {
	b, rest := pem.Decode(p)
	if b == nil {
		return nil, rest
	}
	return b.Bytes, rest
}
