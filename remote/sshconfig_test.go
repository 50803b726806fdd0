package remote

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// sshConfigFile writes an ssh_config and returns its path.
func (f *fixture) sshConfigFile(text string) string {
	f.t.Helper()
	file, err := os.CreateTemp(f.dir, "ssh_config")
	if err != nil {
		f.t.Fatal(err)
	}
	defer file.Close()
	if _, err := file.WriteString(text); err != nil {
		f.t.Fatal(err)
	}
	return file.Name()
}

func hostPort(addr string) (string, string) {
	h, p, _ := net.SplitHostPort(addr)
	return h, p
}

// TestSSHConfigAlias: a bare host alias resolves through ssh_config
// (HostName, Port, User, IdentityFile, UserKnownHostsFile), as with ssh.
func TestSSHConfigAlias(t *testing.T) {
	f := newFixture(t)
	srv, host := f.server()
	h, p := hostPort(srv.addr)
	kh := f.knownHosts("kh", khLine(srv.addr, host.PublicKey()))
	opts := testOpts()
	opts.SSHConfig = f.sshConfigFile(fmt.Sprintf("Host kms-1\n  HostName %s\n  Port %s\n  User tester\n  IdentityFile %s\n  UserKnownHostsFile %s\n", h, p, f.keyFile, kh))
	n, err := dial(t, opts, Target{Name: "kms-1", Address: "kms-1"})
	if err != nil {
		t.Fatalf("Dial of an ssh_config alias: %v", err)
	}
	if res := mustRun(t, n, Command{Args: []string{"echo", "ok"}}); string(res.Stdout) != "ok\n" {
		t.Fatalf("stdout %q", res.Stdout)
	}
}

// TestSSHConfigInventoryWins: a value the inventory sets beats ssh_config.
func TestSSHConfigInventoryWins(t *testing.T) {
	f := newFixture(t)
	srv, host := f.server()
	kh := f.knownHosts("kh", khLine(srv.addr, host.PublicKey()))
	opts := testOpts()
	opts.SSHConfig = f.sshConfigFile("Host 127.0.0.1\n  Port 1\n  User nobody-here\n  IdentityFile /nonexistent\n")
	if _, err := dial(t, opts, f.target("kms-1", srv.addr, kh)); err != nil {
		t.Fatalf("inventory values should win over ssh_config: %v", err)
	}
}

// TestDefaultIdentity: with no agent and no identity configured, the
// OpenSSH default key ~/.ssh/id_ed25519 is used.
func TestDefaultIdentity(t *testing.T) {
	f := newFixture(t)
	srv, host := f.server()
	home := t.TempDir()
	t.Setenv("HOME", home)
	key, _ := os.ReadFile(f.keyFile)
	if err := os.MkdirAll(filepath.Join(home, ".ssh"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(home, ".ssh", "id_ed25519"), key, 0o600); err != nil {
		t.Fatal(err)
	}
	tg := f.target("kms-1", srv.addr, f.knownHosts("kh", khLine(srv.addr, host.PublicKey())))
	tg.IdentityFile = ""
	if _, err := dial(t, testOpts(), tg); err != nil {
		t.Fatalf("default identity not tried: %v", err)
	}
	os.Remove(filepath.Join(home, ".ssh", "id_ed25519"))
	_, err := dial(t, testOpts(), tg)
	var de *DialError
	if !errors.As(err, &de) || de.Kind() != DialNoIdentity || !strings.Contains(err.Error(), "ssh-add") {
		t.Fatalf("no key at all: %v", err)
	}
}

// TestSSHConfigProxyJumpChain: "ProxyJump b1,b2" goes through both
// bastions in order, each resolved through ssh_config itself.
func TestSSHConfigProxyJumpChain(t *testing.T) {
	f := newFixture(t)
	b1, k1 := f.server()
	b2, k2 := f.server()
	node, kn := f.server()
	kh := f.knownHosts("kh", khLine(b1.addr, k1.PublicKey()), khLine(b2.addr, k2.PublicKey()), khLine(node.addr, kn.PublicKey()))
	var cfg strings.Builder
	for name, addr := range map[string]string{"b1": b1.addr, "b2": b2.addr, "kms-1": node.addr} {
		h, p := hostPort(addr)
		fmt.Fprintf(&cfg, "Host %s\n  HostName %s\n  Port %s\n", name, h, p)
		if name == "kms-1" {
			cfg.WriteString("  ProxyJump b1,b2\n")
		}
	}
	fmt.Fprintf(&cfg, "Host *\n  User tester\n  IdentityFile %s\n  UserKnownHostsFile %s\n", f.keyFile, kh)
	opts := testOpts()
	opts.SSHConfig = f.sshConfigFile(cfg.String())
	n, err := dial(t, opts, Target{Name: "kms-1", Address: "kms-1"})
	if err != nil {
		t.Fatalf("two-hop ProxyJump: %v", err)
	}
	mustRun(t, n, Command{Args: []string{"true"}})
	for name, srv := range map[string]*testServer{"b1": b1, "b2": b2, "node": node} {
		if _, conns, _, _ := srv.stats(); conns != 1 {
			t.Errorf("%s saw %d connections, want 1", name, conns)
		}
	}
}

// TestJumpChainLoop: a ProxyJump loop in ssh_config is an error.
func TestJumpChainLoop(t *testing.T) {
	f := newFixture(t)
	opts := testOpts()
	opts.SSHConfig = f.sshConfigFile("Host *\n  ProxyJump loop\n")
	_, err := dial(t, opts, Target{Name: "kms-1", Address: "kms-1"})
	if err == nil || !strings.Contains(err.Error(), "ProxyJump chain longer") {
		t.Fatalf("err = %v", err)
	}
}

// TestGlobalKnownHosts: a key known only to the global file is trusted.
func TestGlobalKnownHosts(t *testing.T) {
	f := newFixture(t)
	srv, host := f.server()
	opts := testOpts()
	opts.GlobalKnownHosts = []string{f.knownHosts("global", khLine(srv.addr, host.PublicKey()))}
	if _, err := dial(t, opts, f.target("kms-1", srv.addr, filepath.Join(f.dir, "empty"))); err != nil {
		t.Fatalf("global known_hosts not read: %v", err)
	}
}

// TestHashKnownHosts: with HashKnownHosts yes, an accepted key is recorded
// hashed, and the next strict dial finds it.
func TestHashKnownHosts(t *testing.T) {
	f := newFixture(t)
	srv, _ := f.server()
	kh := filepath.Join(f.dir, "kh")
	opts := testOpts()
	opts.AcceptNewHostKeys = true
	opts.SSHConfig = f.sshConfigFile("Host *\n  HashKnownHosts yes\n")
	if _, err := dial(t, opts, f.target("kms-1", srv.addr, kh)); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(kh)
	if !strings.HasPrefix(string(data), "|1|") || strings.Contains(string(data), "127.0.0.1") {
		t.Fatalf("known_hosts line not hashed: %q", data)
	}
	if _, err := dial(t, testOpts(), f.target("kms-1", srv.addr, kh)); err != nil {
		t.Fatalf("strict dial after a hashed accept: %v", err)
	}
}

// TestStrictHostKeyCheckingNoIgnored: the file cannot relax host keys.
func TestStrictHostKeyCheckingNoIgnored(t *testing.T) {
	f := newFixture(t)
	srv, _ := f.server()
	var warn bytes.Buffer
	opts := testOpts()
	opts.Warnings = &warn
	opts.SSHConfig = f.sshConfigFile("Host *\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n")
	tg := f.target("kms-1", srv.addr, "")
	_, err := dial(t, opts, tg)
	var hke *HostKeyError
	if !errors.As(err, &hke) || hke.Kind != HostKeyUnknown {
		t.Fatalf("StrictHostKeyChecking no from a file relaxed checking: %v", err)
	}
	if !strings.Contains(err.Error(), "--accept-new-host-keys") || !strings.Contains(err.Error(), "ssh-keyscan") {
		t.Errorf("unknown host key message lacks the fixes: %v", err)
	}
	if !strings.Contains(warn.String(), "StrictHostKeyChecking no") {
		t.Errorf("no warning about the ignored setting: %q", warn.String())
	}
}

// TestSSHConfigConnectTimeout: ConnectTimeout from ssh_config bounds the
// handshake with a peer that never speaks SSH; --connect-timeout wins.
func TestSSHConfigConnectTimeout(t *testing.T) {
	ln := silentListener(t)
	f := newFixture(t)
	for _, tc := range []struct {
		explicit time.Duration
		want     time.Duration
	}{{0, time.Second}, {1500 * time.Millisecond, 1500 * time.Millisecond}} {
		opts := testOpts()
		opts.ConnectTimeout, opts.FallbackConnectTimeout = tc.explicit, time.Minute
		opts.SSHConfig = f.sshConfigFile("Host *\n  ConnectTimeout 1\n")
		start := time.Now()
		_, err := dial(t, opts, f.target("kms-1", ln.Addr().String(), filepath.Join(f.dir, "kh")))
		took := time.Since(start)
		var de *DialError
		if !errors.As(err, &de) || de.Kind() != DialTimedOut || !strings.Contains(err.Error(), "--connect-timeout") {
			t.Fatalf("err = %v, want a timeout naming --connect-timeout", err)
		}
		if took < tc.want || took > tc.want+2*time.Second {
			t.Errorf("gave up after %s, want %s", took, tc.want)
		}
	}
}

// TestDialErrorsClassified: each failure says what it is and names the
// node once.
func TestDialErrorsClassified(t *testing.T) {
	f := newFixture(t)
	srv, host := f.server()
	kh := f.knownHosts("kh", khLine(srv.addr, host.PublicKey()))
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := ln.Addr().String()
	ln.Close()
	_, other := newSigner(t)
	wrongKey := writeKey(t, t.TempDir(), other, "")
	tests := []struct {
		name string
		tg   Target
		kind DialErrorKind
	}{
		{"refused", f.target("kms-1", closed, kh), DialRefused},
		{"auth", func() Target { tg := f.target("kms-1", srv.addr, kh); tg.IdentityFile = wrongKey; return tg }(), DialAuthRefused},
		{"no host", Target{Name: "kms-1", Address: "no-such-host.invalid", User: "tester", IdentityFile: f.keyFile, KnownHosts: kh}, DialNoHost},
		{"unknown key", f.target("kms-1", srv.addr, filepath.Join(f.dir, "none")), DialHostKeyUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := dial(t, testOpts(), tt.tg)
			var de *DialError
			if !errors.As(err, &de) || de.Kind() != tt.kind {
				t.Fatalf("err = %v, want kind %q", err, tt.kind)
			}
			if c := strings.Count(err.Error(), "kms-1"); c != 1 {
				t.Errorf("node named %d times: %v", c, err)
			}
			if !strings.Contains(err.Error(), "Fix:") {
				t.Errorf("no fix: %v", err)
			}
		})
	}
}

// TestVerboseTrace: -v shows how the node was reached, the keys offered
// and every command, never the command's stdin.
func TestVerboseTrace(t *testing.T) {
	f := newFixture(t)
	srv, host := f.server()
	var trace bytes.Buffer
	opts := testOpts()
	opts.Debug = &trace
	n, err := dial(t, opts, f.target("kms-1", srv.addr, f.knownHosts("kh", khLine(srv.addr, host.PublicKey()))))
	if err != nil {
		t.Fatal(err)
	}
	mustRun(t, n, Command{Args: []string{"cat"}, Stdin: strings.NewReader("s3cr3t-value")})
	out := trace.String()
	for _, want := range []string{"ssh kms-1: tester@", "ssh kms-1: offering " + f.keyFile, "ssh kms-1: authenticated", "ssh kms-1: run: cat (stdin not shown)"} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "s3cr3t") {
		t.Error("the trace shows stdin")
	}
}

// TestHostName: the network address of an alias, for matching it against
// addresses the key manager reports.
func TestHostName(t *testing.T) {
	f := newFixture(t)
	cfg := f.sshConfigFile("Host kms-1\n  HostName 10.0.0.11\nHost %h-x\n")
	if got := HostName(Target{Address: "kms-1", SSHConfig: cfg}, ""); got != "10.0.0.11" {
		t.Errorf("HostName(kms-1) = %q", got)
	}
	if got := HostName(Target{Address: "10.0.0.12", SSHConfig: cfg}, ""); got != "10.0.0.12" {
		t.Errorf("HostName of a plain address = %q", got)
	}
}
