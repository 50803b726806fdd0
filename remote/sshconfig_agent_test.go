package remote

import (
	"crypto/ed25519"
	"errors"
	"net"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/crypto/ssh/agent"
)

// startAgent serves an ssh-agent holding priv at a socket and points
// SSH_AUTH_SOCK at it.
func startAgent(t *testing.T, priv ed25519.PrivateKey) {
	t.Helper()
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: priv}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "agent.sock")
	serveConns(t, "unix", sock, func(c net.Conn) { _ = agent.ServeAgent(keyring, c) })
	t.Setenv("SSH_AUTH_SOCK", sock)
}

// TestIdentitiesOnly: the agent's keys are offered unless ssh_config says
// IdentitiesOnly yes.
func TestIdentitiesOnly(t *testing.T) {
	f := newFixture(t)
	signer, priv := newSigner(t)
	hostKey, _ := newSigner(t)
	srv := startServer(t, signer.PublicKey(), hostKey)
	startAgent(t, priv)
	t.Setenv("HOME", t.TempDir()) // no default key files
	tg := f.target("kms-1", srv.addr, "")
	tg.IdentityFile = ""
	opts := testOpts()
	opts.AcceptNewHostKeys = true
	tg.KnownHosts = filepath.Join(f.dir, "kh")
	if _, err := dial(t, opts, tg); err != nil {
		t.Fatalf("agent key not offered: %v", err)
	}
	opts.SSHConfig = f.sshConfigFile("Host *\n  IdentitiesOnly yes\n")
	_, err := dial(t, opts, tg)
	var de *DialError
	if !errors.As(err, &de) || de.Kind() != DialNoIdentity {
		t.Fatalf("IdentitiesOnly yes still used the agent: %v", err)
	}
}

// TestGlobalKnownHostsFileKeyword: GlobalKnownHostsFile in ssh_config
// replaces the system files.
func TestGlobalKnownHostsFileKeyword(t *testing.T) {
	f := newFixture(t)
	srv, host := f.server()
	global := f.knownHosts("global", khLine(srv.addr, host.PublicKey()))
	opts := testOpts()
	opts.SSHConfig = f.sshConfigFile("Host *\n  GlobalKnownHostsFile " + global + "\n")
	if _, err := dial(t, opts, f.target("kms-1", srv.addr, filepath.Join(f.dir, "none"))); err != nil {
		t.Fatalf("GlobalKnownHostsFile not read: %v", err)
	}
}

// TestSudoErrorFix: every sudo refusal says what fixes it.
func TestSudoErrorFix(t *testing.T) {
	for _, e := range []*SudoError{
		{Node: "kms-1", Reason: "a password is required", Err: errors.New("no sudo password file")},
		{Node: "kms-1", Reason: "the sudo password was refused"},
		{Node: "kms-1", Reason: "sudo -n failed", Stderr: "kmsadmin is not in the sudoers file"},
	} {
		msg := e.Error()
		if !strings.Contains(msg, "Fix: ") || strings.Count(msg, "kms-1") != 1 {
			t.Errorf("%q", msg)
		}
	}
}

// TestRealSSHDConfigAndErrors: against OpenSSH's sshd, an ssh_config alias
// resolves, and a wrong key and an unknown host key are classified.
func TestRealSSHDConfigAndErrors(t *testing.T) {
	f := newFixture(t)
	addr, kh := startSSHD(t, f, nil)
	host, port, _ := net.SplitHostPort(addr)
	_, other := newSigner(t)
	wrongKey := writeKey(t, t.TempDir(), other, "")
	alias := func(key, knownHosts string) SSHOptions {
		o := testOpts()
		o.SSHConfig = f.sshConfigFile("Host realnode\n  HostName " + host + "\n  Port " + port + "\n  User root\n  IdentityFile " + key + "\n  UserKnownHostsFile " + knownHosts + "\n")
		return o
	}
	n, err := dial(t, alias(f.keyFile, kh), Target{Name: "real", Address: "realnode"})
	if err != nil {
		t.Fatalf("alias through ssh_config to sshd: %v", err)
	}
	if res := mustRun(t, n, Command{Args: []string{"id", "-un"}}); strings.TrimSpace(string(res.Stdout)) != "root" {
		t.Fatalf("logged in as %q", res.Stdout)
	}
	for _, tc := range []struct {
		opts SSHOptions
		want DialErrorKind
	}{
		{alias(wrongKey, kh), DialAuthRefused},
		{alias(f.keyFile, filepath.Join(f.dir, "empty_known_hosts")), DialHostKeyUnknown},
	} {
		_, err := dial(t, tc.opts, Target{Name: "real", Address: "realnode"})
		var de *DialError
		if !errors.As(err, &de) || de.Kind() != tc.want || !strings.Contains(err.Error(), "Fix:") {
			t.Errorf("err = %v, want %s with a fix", err, tc.want)
		}
	}
}
