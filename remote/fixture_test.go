package remote

import (
	"context"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/skeema/knownhosts"
	"golang.org/x/crypto/ssh"
	xknownhosts "golang.org/x/crypto/ssh/knownhosts"
)

// fixture holds a client key and a scratch directory for one test.
type fixture struct {
	t       *testing.T
	dir     string
	client  ssh.Signer
	keyFile string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	t.Setenv("SSH_AUTH_SOCK", "") // never use the developer's agent
	dir := t.TempDir()
	signer, priv := newSigner(t)
	return &fixture{t: t, dir: dir, client: signer, keyFile: writeKey(t, dir, priv, "")}
}

// server starts an in-process server with a fresh ed25519 host key.
func (f *fixture) server() (*testServer, ssh.Signer) {
	host, _ := newSigner(f.t)
	return startServer(f.t, f.client.PublicKey(), host), host
}

// target points at addr ("127.0.0.1:port") with known_hosts file kh.
func (f *fixture) target(name, addr, kh string) Target {
	host, port, _ := strings.Cut(addr, ":")
	p := 0
	for _, c := range port {
		p = p*10 + int(c-'0')
	}
	return Target{Name: name, Address: host, Port: p, User: "tester", IdentityFile: f.keyFile, KnownHosts: kh}
}

// knownHosts writes lines to a new known_hosts file and returns its path.
func (f *fixture) knownHosts(name string, lines ...string) string {
	f.t.Helper()
	path := filepath.Join(f.dir, name)
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		f.t.Fatal(err)
	}
	return path
}

// khLine is the plain known_hosts line for addr.
func khLine(addr string, key ssh.PublicKey) string {
	return knownhosts.Line([]string{addr}, key)
}

// khHashed is the hashed known_hosts line for addr.
func khHashed(addr string, key ssh.PublicKey) string {
	return xknownhosts.HashHostname(knownhosts.Normalize(addr)) + " " + key.Type() + " " +
		base64.StdEncoding.EncodeToString(key.Marshal())
}

// testOpts are short timeouts so failures show quickly.
func testOpts() SSHOptions {
	return SSHOptions{ConnectTimeout: 3 * time.Second, KeepAliveInterval: time.Second, CommandTimeout: 20 * time.Second,
		SSHConfig: "none", GlobalKnownHosts: []string{}}
}

// dial connects with opts and registers Close.
func dial(t *testing.T, opts SSHOptions, tg Target) (Node, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	n, err := NewSSHDialer(opts).Dial(ctx, tg)
	if err == nil {
		t.Cleanup(func() { n.Close() })
	}
	return n, err
}

// mustRun runs args and fails the test on a transport error.
func mustRun(t *testing.T, n Node, cmd Command) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := n.Run(ctx, cmd)
	if err != nil {
		t.Fatalf("Run %q: %v", cmd.Args, err)
	}
	return res
}

// sshSigner wraps a private key.
func sshSigner(priv any) (ssh.Signer, error) { return ssh.NewSignerFromKey(priv) }
