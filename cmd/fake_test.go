package cmd

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/kmsctl/kmsctl/migrate/kmsapi"
	"github.com/kmsctl/kmsctl/remote"
	"github.com/kmsctl/kmsctl/remote/remotetest"
)

// The files and HSM names the cmd tests' key manager hosts use.
const (
	kmsConfigPath = "/etc/minkms/config.yaml"
	kmsEnvPath    = "/etc/default/minkms"
	localHSM      = "local"
	vaultHSM      = "vault:transit/minkms-sealing-key"
)

// kmsNode is the one fake node (remotetest.Node) scripted as a key manager
// host: systemd answers `systemctl show` from the unit's state, a restart
// starts the daemon again from its files (the local HSM while the env file
// has the key, the Vault HSM while the config has a Vault block), and the
// file preflight, lock, backup and clean-up commands act on the node's
// files. Every call is recorded by remotetest.
type kmsNode struct {
	*remotetest.Node
	mu sync.Mutex
	// unit is the `systemctl show` of the unit's state, as systemd prints it.
	unit     string
	pid      int
	restarts int
	running  bool
	// active are the HSMs it started with (hsm_active), entries its sealed
	// root key entries (hsm).
	active  []string
	entries map[string]bool
	// vaultFails: its Vault block cannot work, so it does not start while
	// one is configured (a bad secret id, no route to Vault).
	vaultFails bool
	// broken: it does not start at all, whatever its files (even the
	// original ones), so a restore cannot prove it starts.
	broken bool
	// restartsDone counts `systemctl restart`s.
	restartsDone int
}

func newKMSNode(name, config, env string) *kmsNode {
	n := &kmsNode{Node: remotetest.NewNode(name), unit: unitActive, pid: 812, restarts: 2, running: true, entries: map[string]bool{localHSM: true}}
	n.SetFile(kmsEnvPath, remotetest.File{Data: []byte(env), Mode: 0o600})
	n.SetFile(kmsConfigPath, remotetest.File{Data: []byte(config), Mode: 0o640})
	n.active = n.configured()
	for _, h := range n.active {
		n.entries[h] = true
	}
	n.Respond([]string{"true"}, remote.Result{})
	n.Handle([]string{"systemctl", "show"}, n.show)
	n.Handle([]string{"sh", "-c"}, n.shell)
	n.Handle([]string{"rm", "-f", "--"}, n.rm)
	n.Handle([]string{"find"}, n.find)
	n.Respond([]string{"install", "-d"}, remote.Result{})
	n.Respond([]string{"grep"}, remote.Result{ExitCode: 1})
	n.Respond([]string{"systemctl", "list-jobs"}, remote.Result{})
	n.Respond([]string{"journalctl"}, remote.Result{Stdout: []byte("minkms[812]: ERROR vault: approle login failed: permission denied\n")})
	n.HandleTCP("", func(c net.Conn) { c.Close() }) // the API: fakeAPIs tells nodes apart by the *remotetest.Conn
	return n
}

// file returns the content of path ("" when missing).
func (n *kmsNode) file(path string) string {
	f, _ := n.File(path)
	return string(f.Data)
}

// configured are the HSMs the node's files configure.
func (n *kmsNode) configured() []string {
	var hsms []string
	if has, _ := envHasKey([]byte(n.file(kmsEnvPath))); has {
		hsms = append(hsms, localHSM)
	}
	if blocks, _ := vaultBlocks([]byte(n.file(kmsConfigPath))); len(blocks) > 0 {
		hsms = append(hsms, vaultHSM)
	}
	return hsms
}

func (n *kmsNode) show(cmd remote.Command, _ []byte) (remote.Result, error) {
	if len(cmd.Args) > 3 && strings.Contains(cmd.Args[3], "ExecStart") {
		return remote.Result{Stdout: []byte("ExecStart={ path=/usr/local/bin/minkms ; argv[]=/usr/local/bin/minkms server --config " + kmsConfigPath +
			" $MINIO_KMS_VOLUME ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }\n" +
			"EnvironmentFiles=" + kmsEnvPath + " (ignore_errors=no)\nEnvironment=\nFragmentPath=/etc/systemd/system/minkms.service\nDropInPaths=\n")}, nil
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	return remote.Result{Stdout: []byte(n.unit)}, nil
}

// shell answers the `sh -c SCRIPT` commands of kmsctl by what the script does.
func (n *kmsNode) shell(cmd remote.Command, stdin []byte) (remote.Result, error) {
	script := cmd.Args[2]
	switch {
	case strings.HasPrefix(script, "# kmsctl-filecheck"):
		return n.fileCheck(cmd.Args[5:]), nil
	case strings.HasPrefix(script, "# kmsctl-environ"):
		if has, _ := envHasKey([]byte(n.file(kmsEnvPath))); has {
			return remote.Result{}, nil
		}
		return remote.Result{ExitCode: 1}, nil
	case strings.Contains(script, "set -C"):
		if _, ok := n.File(cmd.Args[4]); ok {
			return remote.Result{ExitCode: 1, Stderr: []byte("sh: cannot overwrite existing file")}, nil
		}
		n.SetFile(cmd.Args[4], remotetest.File{Data: stdin, Mode: 0o600})
		return remote.Result{}, nil
	case strings.Contains(script, "systemctl restart"):
		n.restart()
		return remote.Result{}, nil
	}
	return remote.Result{ExitCode: 127, Stderr: []byte("kmsNode: unknown script")}, nil
}

// restart starts the daemon again from the node's files.
func (n *kmsNode) restart() {
	hsms := n.configured()
	n.mu.Lock()
	defer n.mu.Unlock()
	n.restartsDone++
	n.pid += 100
	unseals := slices.ContainsFunc(hsms, func(h string) bool { return n.entries[h] })
	n.running = !n.broken && len(hsms) > 0 && unseals && !(n.vaultFails && slices.Contains(hsms, vaultHSM))
	if !n.running {
		n.unit = fmt.Sprintf("ActiveState=failed\nSubState=failed\nResult=exit-code\nNRestarts=%d\nMainPID=0\nStateChangeTimestamp=Fri 2026-11-27 08:00:00 UTC\n", n.restarts)
		return
	}
	n.active = hsms
	for _, h := range hsms {
		n.entries[h] = true // a new HSM gets its entry, sealed by one that unsealed
	}
	n.unit = fmt.Sprintf("ActiveState=active\nSubState=running\nResult=success\nNRestarts=%d\nMainPID=%d\nStateChangeTimestamp=Fri 2026-11-27 08:00:00 UTC\n", n.restarts, n.pid)
}

func (n *kmsNode) isRunning() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.running
}

// status is the node's entry in a cluster view.
func (n *kmsNode) status(id uint32, leader bool) kmsapi.NodeStatus {
	n.mu.Lock()
	defer n.mu.Unlock()
	var sealed []string
	for h := range n.entries {
		sealed = append(sealed, h)
	}
	slices.Sort(sealed)
	role, leaderID := kmsapi.RoleFollower, int64(2)
	if leader {
		role = kmsapi.RoleLeader
	}
	return kmsapi.NodeStatus{ID: id, Host: fmt.Sprintf("10.213.0.%d:7373", 10+id), Version: "2025-10-01T00-00-00Z", Role: role, LeaderID: leaderID,
		HSM: sealed, HSMActive: slices.Clone(n.active)}
}

func (n *kmsNode) rm(cmd remote.Command, _ []byte) (remote.Result, error) {
	n.RemoveFile(cmd.Args[3])
	return remote.Result{}, nil
}

// find answers `find DIR -mindepth 1 -maxdepth 1 -type d -printf %f\n`:
// the directories holding files under DIR.
func (n *kmsNode) find(cmd remote.Command, _ []byte) (remote.Result, error) {
	base := cmd.Args[1] + "/"
	var dirs []string
	for _, p := range n.Paths() {
		rest, ok := strings.CutPrefix(p, base)
		if !ok {
			continue
		}
		if dir, _, nested := strings.Cut(rest, "/"); nested && !slices.Contains(dirs, dir) {
			dirs = append(dirs, dir)
		}
	}
	return remote.Result{Stdout: []byte(strings.Join(dirs, "\n") + "\n")}, nil
}

// fileCheck answers the file preflight: each file regular (or missing),
// its directory writable on a read-write mount, with room.
func (n *kmsNode) fileCheck(paths []string) remote.Result {
	var out strings.Builder
	for _, p := range paths {
		kind := "missing"
		if _, ok := n.File(p); ok {
			kind = "file"
		}
		fmt.Fprintf(&out, "%s\t%s\t%d\tyes\tno\t%d\t%d\t\n", p, kind, len(n.file(p)), 1<<30, 1<<30)
	}
	return remote.Result{Stdout: []byte(out.String())}
}

// writes returns the paths the node was asked to write, in order.
func (n *kmsNode) writes() []string {
	var paths []string
	for _, c := range n.Calls() {
		if c.Op == remotetest.OpWriteFileAtomic {
			paths = append(paths, c.Path)
		}
	}
	return paths
}

// fakeAPI is one node's key manager API: a fixed view, or (node set) the
// live state of a kmsNode and the view of its cluster.
type fakeAPI struct {
	version  string
	notReady string
	cluster  *kmsapi.ClusterStatus
	node     *kmsNode
	view     func() *kmsapi.ClusterStatus
	// peers are every node of the cluster, for the cluster-wide writes
	// (RemoveHSM, AddHSM): refused unless every one of them runs.
	peers func() []*kmsNode
	key   string // the API key the client was built with
}

func (a *fakeAPI) Version(context.Context) (string, error) { return a.version, nil }

func (a *fakeAPI) Live(context.Context) error {
	if a.node != nil && !a.node.isRunning() {
		return errors.New("connection refused")
	}
	return nil
}

func (a *fakeAPI) Ready(ctx context.Context) error {
	if a.notReady != "" {
		return errors.New(a.notReady)
	}
	return a.Live(ctx)
}

func (a *fakeAPI) ClusterStatus(ctx context.Context) (*kmsapi.ClusterStatus, error) {
	if a.key == "" {
		return nil, errors.New("no API key")
	}
	if a.view != nil {
		if err := a.Live(ctx); err != nil {
			return nil, err
		}
		return a.view(), nil
	}
	return a.cluster, nil
}

func (a *fakeAPI) Close() {}

// RemoveHSM deletes the named HSM's sealed entry on every node, as the
// product does; refused unless every node is up.
func (a *fakeAPI) RemoveHSM(_ context.Context, name string) error {
	return a.everyNode(func(n *kmsNode) { delete(n.entries, name) })
}

// AddHSM seals an entry for a configured HSM on every node.
func (a *fakeAPI) AddHSM(_ context.Context, name string, _ bool) error {
	return a.everyNode(func(n *kmsNode) {
		if slices.Contains(n.active, name) {
			n.entries[name] = true
		}
	})
}

func (a *fakeAPI) everyNode(f func(*kmsNode)) error {
	if a.peers == nil {
		return errors.New("not a cluster-wide fake")
	}
	nodes := a.peers()
	for _, n := range nodes {
		if !n.isRunning() {
			return fmt.Errorf("%w: node %s is down", kmsapi.ErrHSMNotAllNodes, n.Name())
		}
	}
	for _, n := range nodes {
		n.mu.Lock()
		f(n)
		n.mu.Unlock()
	}
	return nil
}

// fakeAPIs builds clients by dialling through the node, like the real one,
// and picks the node's API by the tunnel's node name.
func fakeAPIs(apis map[string]*fakeAPI) func(kmsapi.DialFunc, string, kmsapi.Options) (NodeAPI, error) {
	return func(dial kmsapi.DialFunc, apiURL string, o kmsapi.Options) (NodeAPI, error) {
		c, err := dial(context.Background(), "tcp", strings.TrimPrefix(apiURL, "https://"))
		if err != nil {
			return nil, err
		}
		defer c.Close()
		a, ok := apis[c.(*remotetest.Conn).Node]
		if !ok {
			return nil, errors.New("connection refused")
		}
		cp := *a
		cp.key = o.APIKey
		return &cp, nil
	}
}

// The process identity testFactory gives a run (lock files name it).
const (
	testHost = "operator-host"
	testPID  = 4242
)

// testFactory returns a Factory with buffers for streams (no terminal), a
// fake clock that stands still until something waits on it (then it moves
// on by the wait, see remotetest.Clock), a fixed host name and PID, and
// env as the whole environment.
func testFactory(d remote.Dialer, apis map[string]*fakeAPI, env map[string]string) (*Factory, *bytes.Buffer, *bytes.Buffer) {
	f := NewFactory()
	io, _, out, errOut := NewTestIOStreams()
	f.IO = io
	f.Dialer = func(DialerOptions) (remote.Dialer, error) { return d, nil }
	f.NodeAPI = fakeAPIs(apis)
	clock := remotetest.NewClock(time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC))
	f.Now, f.After = clock.Now, clock.After
	f.Hostname = func() (string, error) { return testHost, nil }
	f.Getpid = func() int { return testPID }
	f.Getenv = func(k string) string { return env[k] }
	return f, out, errOut
}
