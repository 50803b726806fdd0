package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/kmsctl/kmsctl/migrate/kmsapi"
	"github.com/kmsctl/kmsctl/remote"
)

// fakeNode is a remote.Node backed by maps: files, a unit state, and
// whether sudo works. It records the commands it ran.
type fakeNode struct {
	name    string
	files   map[string][]byte
	unit    string // `systemctl show` output
	sudoErr string // non-empty: sudo fails with this stderr
	// vault, when set, is the address DialTCP really dials (a fake Vault on
	// loopback); every other address is the node's fake API.
	vault  string
	mu     sync.Mutex
	ran    [][]string
	closed bool
}

func (n *fakeNode) Name() string { return n.name }

func (n *fakeNode) Run(_ context.Context, c remote.Command) (remote.Result, error) {
	n.mu.Lock()
	n.ran = append(n.ran, c.Args)
	n.mu.Unlock()
	if c.Sudo && n.sudoErr != "" {
		return remote.Result{ExitCode: 1, Stderr: []byte(n.sudoErr)}, nil
	}
	switch c.Args[0] {
	case "true":
		return remote.Result{}, nil
	case "systemctl":
		return remote.Result{Stdout: []byte(n.unit)}, nil
	case "sh":
		if len(c.Args) > 4 && strings.HasPrefix(c.Args[2], "# kmsctl-filecheck") {
			return n.fileCheck(c.Args[5:]), nil
		}
		if len(c.Args) > 2 && strings.HasPrefix(c.Args[2], "# kmsctl-environ") {
			// the main process has what the env file gives it
			if bytes.Contains(n.files["/etc/default/minkms"], []byte("MINIO_KMS_HSM_KEY=")) {
				return remote.Result{}, nil
			}
			return remote.Result{ExitCode: 1}, nil
		}
	}
	return remote.Result{ExitCode: 127, Stderr: []byte("not faked: " + strings.Join(c.Args, " "))}, nil
}

func (n *fakeNode) ReadFile(_ context.Context, path string) ([]byte, remote.FileInfo, error) {
	if n.sudoErr != "" {
		return nil, remote.FileInfo{}, fmt.Errorf("read %s: sudo: %s", path, n.sudoErr)
	}
	b, ok := n.files[path]
	if !ok {
		return nil, remote.FileInfo{}, fmt.Errorf("read %s: %w", path, fs.ErrNotExist)
	}
	return b, remote.FileInfo{Path: path, Mode: 0o600, Size: int64(len(b))}, nil
}

func (n *fakeNode) Stat(ctx context.Context, path string) (remote.FileInfo, error) {
	_, fi, err := n.ReadFile(ctx, path)
	return fi, err
}

func (n *fakeNode) WriteFileAtomic(context.Context, string, []byte, remote.WriteOptions) error {
	return errors.New("status must not write files")
}

// DialTCP returns a pipe tagged with the node name, so the fake API factory
// knows which node's API is being asked.
func (n *fakeNode) DialTCP(ctx context.Context, addr string) (net.Conn, error) {
	if n.vault != "" && addr == n.vault {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", addr)
	}
	c, _ := net.Pipe()
	return taggedConn{Conn: c, node: n.name, addr: addr}, nil
}

func (n *fakeNode) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = true
	return nil
}

func (n *fakeNode) isClosed() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.closed
}

type taggedConn struct {
	net.Conn
	node, addr string
}

// fakeDialer hands out fakeNodes by target name; unreachable ones fail.
type fakeDialer struct {
	nodes       map[string]*fakeNode
	unreachable map[string]string
	targets     chan remote.Target
}

func (d *fakeDialer) Dial(_ context.Context, t remote.Target) (remote.Node, error) {
	if d.targets != nil {
		d.targets <- t
	}
	if msg, ok := d.unreachable[t.Name]; ok {
		return nil, errors.New(msg)
	}
	n, ok := d.nodes[t.Name]
	if !ok {
		return nil, fmt.Errorf("no fake node %s", t.Name)
	}
	return n, nil
}

// fakeAPI is one node's key manager API.
type fakeAPI struct {
	version  string
	notReady string
	cluster  *kmsapi.ClusterStatus
	key      string // the API key the client was built with
}

func (a *fakeAPI) Version(context.Context) (string, error) { return a.version, nil }
func (a *fakeAPI) Live(context.Context) error              { return nil }
func (a *fakeAPI) Ready(context.Context) error {
	if a.notReady != "" {
		return errors.New(a.notReady)
	}
	return nil
}
func (a *fakeAPI) ClusterStatus(context.Context) (*kmsapi.ClusterStatus, error) {
	if a.key == "" {
		return nil, errors.New("no API key")
	}
	return a.cluster, nil
}
func (a *fakeAPI) Close() {}

// fakeAPIs builds clients by dialling through the node, like the real one.
func fakeAPIs(apis map[string]*fakeAPI) func(kmsapi.DialFunc, string, kmsapi.Options) (NodeAPI, error) {
	return func(dial kmsapi.DialFunc, apiURL string, o kmsapi.Options) (NodeAPI, error) {
		c, err := dial(context.Background(), "tcp", strings.TrimPrefix(apiURL, "https://"))
		if err != nil {
			return nil, err
		}
		defer c.Close()
		a, ok := apis[c.(taggedConn).node]
		if !ok {
			return nil, errors.New("connection refused")
		}
		cp := *a
		cp.key = o.APIKey
		return &cp, nil
	}
}

// testFactory returns a Factory with buffers for streams and a fixed clock.
func testFactory(d *fakeDialer, apis map[string]*fakeAPI, env map[string]string) (*Factory, *bytes.Buffer, *bytes.Buffer) {
	var out, errOut bytes.Buffer
	f := NewFactory()
	f.IO = &IOStreams{In: strings.NewReader(""), Out: &out, ErrOut: &errOut}
	f.Dialer = func(DialerOptions) (remote.Dialer, error) { return d, nil }
	f.NodeAPI = fakeAPIs(apis)
	f.Now = func() time.Time { return time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC) }
	f.Getenv = func(k string) string { return env[k] }
	f.ConfigFiles = nil
	return f, &out, &errOut
}

// fileCheck answers the file preflight: every file regular, writable, with room.
func (n *fakeNode) fileCheck(paths []string) remote.Result {
	var out strings.Builder
	for _, p := range paths {
		fmt.Fprintf(&out, "%s\tfile\t%d\tyes\tno\t%d\t%d\t\n", p, len(n.files[p]), 1<<30, 1<<30)
	}
	return remote.Result{Stdout: []byte(out.String())}
}
