package remote

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh"
)

func TestHostKeyVerification(t *testing.T) {
	f := newFixture(t)
	hostKey, _ := newSigner(t)
	ca, _ := newSigner(t)
	otherCA, _ := newSigner(t)
	other, _ := newSigner(t)
	plain := startServer(t, f.client.PublicKey(), hostKey)
	certified := startServer(t, f.client.PublicKey(), hostCert(t, ca, hostKey), hostKey)
	foreignCert := startServer(t, f.client.PublicKey(), hostCert(t, otherCA, hostKey))
	pub := hostKey.PublicKey()
	caLine := func(key ssh.PublicKey) string {
		return "@cert-authority 127.0.0.1,[127.0.0.1]:* " + strings.TrimPrefix(khLine("x", key), "x ")
	}
	tests := []struct {
		name     string
		srv      *testServer
		lines    func(addr string) []string
		missing  bool
		accept   bool
		wantKind HostKeyErrorKind // 0: connects
		wantLine int
	}{
		{name: "known", srv: plain, lines: func(a string) []string { return []string{khLine(a, pub)} }},
		{name: "hashed", srv: plain, lines: func(a string) []string { return []string{khHashed(a, pub)} }},
		{name: "cert-authority", srv: certified, lines: func(a string) []string { return []string{caLine(ca.PublicKey())} }},
		{name: "unknown", srv: plain, lines: func(a string) []string { return []string{khLine("10.0.0.1", pub)} }, wantKind: HostKeyUnknown},
		{name: "missing file", srv: plain, missing: true, wantKind: HostKeyUnknown},
		{name: "changed", srv: plain, lines: func(a string) []string { return []string{"# comment", khLine(a, other.PublicKey())} },
			wantKind: HostKeyChanged, wantLine: 2},
		{name: "changed with accept-new", srv: plain, accept: true,
			lines: func(a string) []string { return []string{khLine(a, other.PublicKey())} }, wantKind: HostKeyChanged, wantLine: 1},
		{name: "revoked", srv: plain, lines: func(a string) []string {
			return []string{khLine(a, pub), "@revoked * " + strings.TrimPrefix(khLine("x", pub), "x ")}
		}, wantKind: HostKeyRevoked, wantLine: 2},
		{name: "certificate of another CA", srv: foreignCert, lines: func(a string) []string { return []string{caLine(ca.PublicKey())} },
			wantKind: HostKeyBadCertificate},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			kh := filepath.Join(f.dir, fmt.Sprintf("kh%d", i))
			if !tc.missing {
				kh = f.knownHosts(fmt.Sprintf("kh%d", i), tc.lines(tc.srv.addr)...)
			}
			opts := testOpts()
			opts.AcceptNewHostKeys = tc.accept
			n, err := dial(t, opts, f.target("kms-1", tc.srv.addr, kh))
			if tc.wantKind == 0 {
				if err != nil {
					t.Fatalf("Dial: %v", err)
				}
				if res := mustRun(t, n, Command{Args: []string{"echo", "hi"}}); string(res.Stdout) != "hi\n" {
					t.Fatalf("stdout %q", res.Stdout)
				}
				return
			}
			var hke *HostKeyError
			if !errors.As(err, &hke) {
				t.Fatalf("err = %v, want a *HostKeyError", err)
			}
			if hke.Kind != tc.wantKind || hke.Line != tc.wantLine || hke.Node != "kms-1" || hke.Host != tc.srv.addr || hke.File != kh {
				t.Fatalf("got %+v, want kind %v line %d", hke, tc.wantKind, tc.wantLine)
			}
			for _, want := range []string{"kms-1", tc.srv.addr, kh} {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("message %q does not name %q", err, want)
				}
			}
		})
	}
}

func TestAcceptNewHostKeyWritesFile(t *testing.T) {
	f := newFixture(t)
	srv, host := f.server()
	kh := filepath.Join(f.dir, "sub", "known_hosts")
	var warnings bytes.Buffer
	opts := testOpts()
	opts.AcceptNewHostKeys, opts.Warnings = true, &warnings
	if _, err := dial(t, opts, f.target("kms-1", srv.addr, kh)); err != nil {
		t.Fatalf("Dial with accept-new: %v", err)
	}
	data, err := os.ReadFile(kh)
	if err != nil {
		t.Fatal(err)
	}
	want := khLine(srv.addr, host.PublicKey()) + "\n"
	if string(data) != want || !strings.HasPrefix(want, "[127.0.0.1]:") {
		t.Fatalf("known_hosts = %q, want %q", data, want)
	}
	if !strings.Contains(warnings.String(), "kms-1") || !strings.Contains(warnings.String(), kh) {
		t.Errorf("warning %q does not name the node and file", warnings.String())
	}
	if _, err := dial(t, testOpts(), f.target("kms-1", srv.addr, kh)); err != nil {
		t.Fatalf("strict Dial after the key was recorded: %v", err)
	}
	if again, _ := os.ReadFile(kh); !bytes.Equal(again, data) {
		t.Fatalf("file changed on a known host: %q", again)
	}
}

// A host with an ECDSA and an ed25519 key, known by its ECDSA key only: the
// client must offer ECDSA (unknown hosts are offered ed25519 first).
func TestHostKeyAlgorithmFromKnownHosts(t *testing.T) {
	f := newFixture(t)
	ed, _ := newSigner(t)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ssh.NewSignerFromKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, f.client.PublicKey(), ed, ec)
	kh := f.knownHosts("kh", khLine(srv.addr, ec.PublicKey()))
	if _, err := dial(t, testOpts(), f.target("kms-1", srv.addr, kh)); err != nil {
		t.Fatalf("Dial: %v", err)
	}
}

// known_hosts pins ECDSA, the host now only has ed25519: refused as changed.
func TestHostKeyTypeGoneIsChanged(t *testing.T) {
	f := newFixture(t)
	srv, _ := f.server()
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec, _ := ssh.NewSignerFromKey(ecKey)
	kh := f.knownHosts("kh", khLine(srv.addr, ec.PublicKey()))
	opts := testOpts()
	opts.AcceptNewHostKeys = true
	_, err := dial(t, opts, f.target("kms-1", srv.addr, kh))
	var hke *HostKeyError
	if !errors.As(err, &hke) || hke.Kind != HostKeyChanged {
		t.Fatalf("err = %v, want a changed host key", err)
	}
}
