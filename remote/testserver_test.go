package remote

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"golang.org/x/crypto/ssh"
)

// testServer is a minimal in-process SSH server on 127.0.0.1: public key
// auth for one client key, "exec" sessions run with the local /bin/sh, and
// direct-tcpip to loopback. It is test-only; the product is a client.
type testServer struct {
	t    *testing.T
	addr string
	port int
	env  []string // extra environment of executed commands

	mu      sync.Mutex
	execs   []string
	conns   int // connections accepted
	open    int // connections currently open
	signals int
}

// startServer serves with the given host key signers (plain or certificate).
func startServer(t *testing.T, client ssh.PublicKey, hostKeys ...ssh.Signer) *testServer {
	t.Helper()
	cfg := &ssh.ServerConfig{
		PublicKeyCallback: func(_ ssh.ConnMetadata, k ssh.PublicKey) (*ssh.Permissions, error) {
			if string(k.Marshal()) == string(client.Marshal()) {
				return nil, nil
			}
			return nil, errors.New("unknown key")
		},
	}
	for _, k := range hostKeys {
		cfg.AddHostKey(k)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &testServer{t: t, addr: ln.Addr().String(), port: ln.Addr().(*net.TCPAddr).Port}
	t.Cleanup(func() { ln.Close() })
	go s.serve(ln, cfg)
	return s
}

func (s *testServer) serve(ln net.Listener, cfg *ssh.ServerConfig) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go s.handleConn(c, cfg)
	}
}

func (s *testServer) handleConn(c net.Conn, cfg *ssh.ServerConfig) {
	defer c.Close()
	conn, chans, reqs, err := ssh.NewServerConn(c, cfg)
	if err != nil {
		return
	}
	s.count(1)
	defer s.count(-1)
	go ssh.DiscardRequests(reqs) // answers keepalive@openssh.com with a refusal
	for nc := range chans {
		switch nc.ChannelType() {
		case "session":
			go s.session(nc)
		case "direct-tcpip":
			go s.directTCPIP(nc)
		default:
			nc.Reject(ssh.UnknownChannelType, "no")
		}
	}
	conn.Wait()
}

func (s *testServer) count(d int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.open += d
	if d > 0 {
		s.conns++
	}
}

func (s *testServer) stats() (execs []string, conns, open, signals int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.execs...), s.conns, s.open, s.signals
}

// session serves one "exec" request with /bin/sh -c.
func (s *testServer) session(nc ssh.NewChannel) {
	ch, reqs, err := nc.Accept()
	if err != nil {
		return
	}
	defer ch.Close()
	var cmd *exec.Cmd
	exited := make(chan struct{})
	for req := range reqs {
		switch req.Type {
		case "exec":
			var p struct{ Command string }
			if ssh.Unmarshal(req.Payload, &p) != nil || cmd != nil {
				req.Reply(false, nil)
				continue
			}
			s.mu.Lock()
			s.execs = append(s.execs, p.Command)
			s.mu.Unlock()
			cmd = exec.Command("/bin/sh", "-c", p.Command)
			cmd.Env = append(os.Environ(), s.env...)
			req.Reply(true, nil)
			s.start(cmd, ch, exited)
		case "signal":
			s.mu.Lock()
			s.signals++
			s.mu.Unlock()
			if cmd != nil && cmd.Process != nil {
				cmd.Process.Kill()
			}
		default:
			req.Reply(false, nil)
		}
	}
	// The client closed the channel: do not leave the command behind.
	if cmd != nil && cmd.Process != nil {
		cmd.Process.Kill()
		<-exited
	}
}

// start starts cmd in the session's goroutine (so cmd.Process is set before
// a "signal" request reads it) and waits for it in another.
func (s *testServer) start(cmd *exec.Cmd, ch ssh.Channel, exited chan struct{}) {
	stdin, _ := cmd.StdinPipe()
	cmd.Stdout, cmd.Stderr = ch, ch.Stderr()
	if err := cmd.Start(); err != nil {
		ch.SendRequest("exit-status", false, ssh.Marshal(struct{ C uint32 }{127}))
		ch.Close()
		close(exited)
		return
	}
	go func() {
		io.Copy(stdin, ch)
		stdin.Close()
	}()
	go s.wait(cmd, ch, exited)
}

func (s *testServer) wait(cmd *exec.Cmd, ch ssh.Channel, exited chan struct{}) {
	defer close(exited)
	cmd.Wait()
	code := cmd.ProcessState.ExitCode()
	if code < 0 {
		code = 255
	}
	ch.SendRequest("exit-status", false, ssh.Marshal(struct{ C uint32 }{uint32(code)}))
	ch.Close()
}

// directTCPIP forwards to a loopback address only.
func (s *testServer) directTCPIP(nc ssh.NewChannel) {
	var p struct {
		Host     string
		Port     uint32
		OrigHost string
		OrigPort uint32
	}
	if ssh.Unmarshal(nc.ExtraData(), &p) != nil || p.Host != "127.0.0.1" {
		nc.Reject(ssh.Prohibited, "loopback only")
		return
	}
	c, err := net.Dial("tcp", net.JoinHostPort(p.Host, strconv.Itoa(int(p.Port))))
	if err != nil {
		nc.Reject(ssh.ConnectionFailed, err.Error())
		return
	}
	ch, reqs, err := nc.Accept()
	if err != nil {
		c.Close()
		return
	}
	go ssh.DiscardRequests(reqs)
	pipe(c, ch)
}

// pipe copies both ways until both directions end.
func pipe(a io.ReadWriteCloser, b io.ReadWriteCloser) {
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { io.Copy(a, b); a.Close(); wg.Done() }()
	go func() { io.Copy(b, a); b.Close(); wg.Done() }()
	wg.Wait()
}

// newSigner returns a fresh ed25519 signer and its private key.
func newSigner(t *testing.T) (ssh.Signer, ed25519.PrivateKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return s, priv
}

// writeKey writes priv as an OpenSSH private key file (encrypted when
// passphrase is not empty) and returns its path.
func writeKey(t *testing.T, dir string, priv ed25519.PrivateKey, passphrase string) string {
	t.Helper()
	var block *pem.Block
	var err error
	if passphrase == "" {
		block, err = ssh.MarshalPrivateKey(priv, "test")
	} else {
		block, err = ssh.MarshalPrivateKeyWithPassphrase(priv, "test", []byte(passphrase))
	}
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "id_ed25519")
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// hostCert signs hostKey's public key with ca for principal 127.0.0.1.
func hostCert(t *testing.T, ca, hostKey ssh.Signer) ssh.Signer {
	t.Helper()
	cert := &ssh.Certificate{
		Key:             hostKey.PublicKey(),
		CertType:        ssh.HostCert,
		KeyId:           "test-host",
		ValidPrincipals: []string{"127.0.0.1"},
		ValidBefore:     ssh.CertTimeInfinity,
	}
	if err := cert.SignCert(rand.Reader, ca); err != nil {
		t.Fatal(err)
	}
	s, err := ssh.NewCertSigner(cert, hostKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// relay is a TCP relay that can be frozen, to play a peer that stops
// answering without closing the connection.
type relay struct {
	addr   string
	frozen chan struct{}
	once   sync.Once
}

func startRelay(t *testing.T, target string) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{addr: ln.Addr().String(), frozen: make(chan struct{})}
	t.Cleanup(func() { ln.Close(); r.freeze() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go r.copy(up, c)
			go r.copy(c, up)
		}
	}()
	return r
}

// freeze stops forwarding bytes in both directions, keeping the sockets open.
func (r *relay) freeze() { r.once.Do(func() { close(r.frozen) }) }

func (r *relay) copy(dst, src net.Conn) {
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		select {
		case <-r.frozen:
			return // drop the bytes, never close: a silent peer
		default:
		}
		if n > 0 {
			dst.Write(buf[:n])
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}
