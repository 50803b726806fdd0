package remote

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"
)

// connected starts a server and returns a node connected to it.
func connected(t *testing.T, opts SSHOptions) (*testServer, Node, *fixture) {
	t.Helper()
	f := newFixture(t)
	srv, host := f.server()
	kh := f.knownHosts("kh", khLine(srv.addr, host.PublicKey()))
	n, err := dial(t, opts, f.target("kms-1", srv.addr, kh))
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	return srv, n, f
}

func TestRun(t *testing.T) {
	_, n, _ := connected(t, testOpts())
	tests := []struct {
		name           string
		cmd            Command
		stdout, stderr string
		code           int
	}{
		{name: "argv words kept", cmd: Command{Args: []string{"printf", "%s|", "a b", "it's", "$HOME", "`x`", ""}}, stdout: "a b|it's|$HOME|`x`||"},
		{name: "stdin", cmd: Command{Args: []string{"cat"}, Stdin: strings.NewReader("data\n")}, stdout: "data\n"},
		{name: "exit code and stderr", cmd: Command{Args: []string{"sh", "-c", "echo oops >&2; exit 3"}}, stderr: "oops\n", code: 3},
		{name: "sudo ignored for a user without sudo", cmd: Command{Args: []string{"echo", "x"}, Sudo: true}, stdout: "x\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := mustRun(t, n, tc.cmd)
			if string(res.Stdout) != tc.stdout || string(res.Stderr) != tc.stderr || res.ExitCode != tc.code {
				t.Fatalf("got %q %q %d, want %q %q %d", res.Stdout, res.Stderr, res.ExitCode, tc.stdout, tc.stderr, tc.code)
			}
		})
	}
}

func TestRunRejectsBadArgs(t *testing.T) {
	_, n, _ := connected(t, testOpts())
	for _, args := range [][]string{nil, {"echo", "a\x00b"}} {
		if _, err := n.Run(context.Background(), Command{Args: args}); err == nil {
			t.Errorf("Run(%q) succeeded", args)
		}
	}
}

func TestRunContextCancelKillsCommand(t *testing.T) {
	srv, n, _ := connected(t, testOpts())
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := n.Run(ctx, Command{Args: []string{"sleep", "30"}})
	if !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %s, want a deadline error quickly", err, time.Since(start))
	}
	// the server counts the signal in its own goroutine
	waitFor(t, func() bool { _, _, _, signals := srv.stats(); return signals > 0 })
	if res := mustRun(t, n, Command{Args: []string{"true"}}); res.ExitCode != 0 {
		t.Fatal("node unusable after a cancelled command")
	}
}

func TestRunDefaultTimeout(t *testing.T) {
	opts := testOpts()
	opts.CommandTimeout = 300 * time.Millisecond
	_, n, _ := connected(t, opts)
	_, err := n.Run(context.Background(), Command{Args: []string{"sleep", "30"}})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v, want the default command timeout", err)
	}
}

// A peer that stops answering (keep-alives unanswered) fails the pending
// operation within KeepAliveInterval*KeepAliveMaxMissed, not never.
func TestKeepAliveDetectsDeadPeer(t *testing.T) {
	f := newFixture(t)
	srv, host := f.server()
	r := startRelay(t, srv.addr)
	kh := f.knownHosts("kh", khLine(r.addr, host.PublicKey()))
	opts := testOpts()
	opts.KeepAliveInterval, opts.KeepAliveMaxMissed = 100*time.Millisecond, 3
	n, err := dial(t, opts, f.target("kms-1", r.addr, kh))
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := n.Run(context.Background(), Command{Args: []string{"sleep", "30"}})
		done <- err
	}()
	time.Sleep(200 * time.Millisecond)
	r.freeze()
	select {
	case err := <-done:
		if !errors.Is(err, ErrConnectionLost) || !strings.Contains(err.Error(), "kms-1") {
			t.Fatalf("err = %v, want ErrConnectionLost naming the node", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Run still pending 5s after the peer went silent")
	}
	if _, err := n.Stat(context.Background(), "/"); !errors.Is(err, ErrConnectionLost) {
		t.Fatalf("later operation: err = %v, want ErrConnectionLost", err)
	}
}

// A listener that accepts TCP but never speaks SSH must not hang Dial.
func TestDialHandshakeTimeout(t *testing.T) {
	f := newFixture(t)
	ln := silentListener(t)
	opts := testOpts()
	opts.ConnectTimeout = 300 * time.Millisecond
	start := time.Now()
	_, err := dial(t, opts, f.target("kms-1", ln.Addr().String(), f.knownHosts("kh")))
	var de *DialError
	if !errors.As(err, &de) || !errors.Is(err, context.DeadlineExceeded) || time.Since(start) > 3*time.Second {
		t.Fatalf("err = %v after %s, want a *DialError timing out", err, time.Since(start))
	}
}

func TestDialRefused(t *testing.T) {
	f := newFixture(t)
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	_, err := dial(t, testOpts(), f.target("kms-9", addr, f.knownHosts("kh")))
	var de *DialError
	if !errors.As(err, &de) || de.Node != "kms-9" || de.Addr != addr {
		t.Fatalf("err = %v, want *DialError for kms-9 at %s", err, addr)
	}
}

func TestCloseIdempotent(t *testing.T) {
	srv, n, _ := connected(t, testOpts())
	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if err := n.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := n.Run(context.Background(), Command{Args: []string{"true"}}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("Run after Close: %v, want net.ErrClosed", err)
	}
	waitFor(t, func() bool { _, _, open, _ := srv.stats(); return open == 0 })
}

// Many concurrent operations share one connection (MaxSessions bounds them).
func TestConcurrentRunsShareOneConnection(t *testing.T) {
	opts := testOpts()
	opts.MaxSessions = 3
	srv, n, _ := connected(t, opts)
	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			res, err := n.Run(context.Background(), Command{Args: []string{"echo", "ok"}})
			if err == nil && string(res.Stdout) != "ok\n" {
				err = errors.New("bad output " + string(res.Stdout))
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if _, conns, _, _ := srv.stats(); conns != 1 {
		t.Fatalf("%d connections, want 1", conns)
	}
}

func TestDialTCPFromNode(t *testing.T) {
	_, n, _ := connected(t, testOpts())
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			io.Copy(c, c)
			c.Close()
		}
	}()
	c, err := n.DialTCP(context.Background(), ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("echo = %q, %v", buf, err)
	}
	if _, err := n.DialTCP(context.Background(), "10.0.0.1:1"); err == nil {
		t.Fatal("DialTCP to a refused address succeeded")
	}
}

func TestEncryptedKeyAsksPassphraseOnce(t *testing.T) {
	f := newFixture(t)
	_, priv := newSigner(t)
	f.client, _ = sshSigner(priv)
	f.keyFile = writeKey(t, t.TempDir(), priv, "s3cret")
	srv, host := f.server()
	kh := f.knownHosts("kh", khLine(srv.addr, host.PublicKey()))
	asked := 0
	opts := testOpts()
	opts.Passphrase = func(file string) ([]byte, error) {
		asked++
		if file != f.keyFile {
			t.Errorf("asked for %s", file)
		}
		return []byte("s3cret"), nil
	}
	d := NewSSHDialer(opts)
	for range 2 {
		n, err := d.Dial(context.Background(), f.target("kms-1", srv.addr, kh))
		if err != nil {
			t.Fatal(err)
		}
		n.Close()
	}
	if asked != 1 {
		t.Fatalf("passphrase asked %d times, want 1", asked)
	}
}

// waitFor polls cond for up to 5s.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within 5s")
}

// silentListener accepts TCP connections and never speaks SSH.
func silentListener(t *testing.T) net.Listener {
	t.Helper()
	return serveConns(t, "tcp", "127.0.0.1:0", func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
}

// serveConns listens on addr and runs handle for each connection (then
// closes it) until the test ends.
func serveConns(t *testing.T, network, addr string, handle func(net.Conn)) net.Listener {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { defer c.Close(); handle(c) }()
		}
	}()
	return ln
}
