package migrate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/kmsctl/kmsctl/migrate/kmsapi"
	"github.com/kmsctl/kmsctl/remote"
	"github.com/kmsctl/kmsctl/remote/remotetest"
)

// sim is a fake cluster for the rollout's state machine: each node boots
// from its files the way the lab's stand-in does (unseal with any configured
// HSM that has an entry, add entries for the others) and joins its peers
// when they share an inter-node key. It is a unit-test fake; the real proof
// is the lab.
type sim struct {
	mu     sync.Mutex
	nodes  []*simNode
	rule   string // "shared" or "primary"
	vault  bool   // Vault reachable
	leader int    // preferred leader index
	noKey  bool   // no API key: ClusterStatus is refused
	log    []string
	// names are the HSM names the key manager reports: the product's
	// (hsm:minio:soft, hsm:hashicorp:vault) or the lab's older ones.
	names simNames
	// unsealAll: a node starts only when every configured HSM works (the
	// strict variant); otherwise any working HSM with an entry unseals it
	// (the chart's documented redundancy, the default).
	unsealAll bool
	// key, when set, is the Vault transit key's versions (rotate_sim_test.go).
	key *simKey
}

// simNames is one naming of the two HSMs.
type simNames struct{ local, vault string }

var (
	productNames = simNames{local: "hsm:minio:soft", vault: "hsm:hashicorp:vault"}
	labNames     = simNames{local: "local", vault: "vault:transit/minkms-sealing-key"}
)

// simNode is one key manager host of the sim: its model (unit state,
// sealed entries, faults) on top of node, the remotetest.Node kmsctl talks
// to, which holds the files and answers every command through the handlers
// script registers.
type simNode struct {
	sim       *sim
	node      *remotetest.Node
	id        int
	name      string
	running   bool
	restarts  int
	pid       int
	entries   map[string]bool // sealed REK entries
	versions  map[string]int  // transit key version of a Vault entry (with sim.key)
	active    []string        // configured HSMs
	failStart bool            // lab fault: exits at once when a Vault block is configured
	badVault  bool            // its Vault block cannot work (bad secret id, no route)
	failAll   bool            // exits at once whatever its files (even the original ones)
	// staleReseal: AddHSM leaves its Vault entry under the old key version
	staleReseal bool
	crashIn     int // with a Vault block: systemd restarts it after this many `systemctl show` calls
	countdown   int // shows left before the next crash
	// the unit as systemctl show reports it
	argv      string
	envFiles  []string
	unitEnv   []string
	dropIn    string                          // a drop-in's path ("" none); it holds unitEnv
	keyInProc bool                            // the main process has the key from a source nothing else shows
	onRestart func()                          // hook for tests (e.g. cancel the run)
	onShow    func(ctx context.Context) error // hook for tests: runs before `systemctl show`
}

const simConfig = "version: v1\n# admin\nadmin:\n  identity: h1:abc\n"
const simEnv = "MINIO_KMS_HSM_KEY=hsm:aes256:AAAA\nMINIO_KMS_VOLUME=/var/lib/minkms\nMINIO_KMS_OPTS=\"--config /etc/minkms/config.yaml\"\n"

func newSim(n int) *sim {
	s := &sim{rule: "shared", vault: true, leader: 1, names: productNames}
	for i := 0; i < n; i++ {
		nd := &simNode{sim: s, id: i + 1, name: fmt.Sprintf("kms-%d", i+1), entries: map[string]bool{s.names.local: true}}
		nd.node = remotetest.NewNode(nd.name)
		nd.node.SetGroup(999, "minkms-user")
		nd.node.SetFile("/etc/minkms/config.yaml", remotetest.File{Data: []byte(simConfig), Mode: 0o640, GID: 999})
		nd.node.SetFile("/etc/default/minkms", remotetest.File{Data: []byte(simEnv), Mode: 0o600})
		nd.script()
		nd.boot()
		s.nodes = append(s.nodes, nd)
	}
	return s
}

// script makes the node answer the commands kmsctl runs from the model.
func (n *simNode) script() {
	h := n.node
	h.HandleLine("systemctl show -p "+unitFileProps, n.showUnitFiles)
	h.HandleLine("systemctl show", n.show)
	h.HandleLine("sh -c # kmsctl-filecheck", n.fileCheck)
	h.HandleLine("sh -c # kmsctl-environ", n.environ)
	h.HandleLine("grep -H -n -o -- "+EnvKey, n.grepKey)
	h.HandleLine(restartLine, n.restart)
	h.HandleLine("sh -c set -C", n.createLock)
	h.HandleLine("rm -f -- ", n.rm)
	h.HandleLine("find "+DefaultBackupDir, n.listRuns)
	h.HandleLine("journalctl", n.journal)
	for _, quiet := range []string{"install -d", "systemctl list-jobs", "systemctl cancel"} {
		h.Respond(strings.Fields(quiet), remote.Result{})
	}
	h.OnWrite(func(p string, _ []byte, _ remote.WriteOptions) error {
		n.sim.mu.Lock()
		defer n.sim.mu.Unlock()
		n.sim.record("%s write %s", n.name, p)
		return nil
	})
}

// restartLine is how systemd.RestartUnit's command starts.
const restartLine = "sh -c systemctl reset-failed"

// data returns the content of the file at p (nil when missing).
func (n *simNode) data(p string) []byte {
	f, _ := n.node.File(p)
	return f.Data
}

// exists says whether p is a file on the node.
func (n *simNode) exists(p string) bool {
	_, ok := n.node.File(p)
	return ok
}

// setData replaces the content of p, keeping its mode and owner.
func (n *simNode) setData(p string, data []byte) {
	f, _ := n.node.File(p)
	f.Data = data
	n.node.SetFile(p, f)
}

// info returns the mode and owner of p.
func (n *simNode) info(p string) remotetest.File {
	f, _ := n.node.File(p)
	f.Data = nil
	return f
}

func (s *sim) targets() []*Target {
	var ts []*Target
	for _, n := range s.nodes {
		ts = append(ts, &Target{Name: n.name, Node: n.node, API: simAPI{n}, ConfigPath: "/etc/minkms/config.yaml",
			EnvPath: "/etc/default/minkms", Unit: "minkms", BackupDir: DefaultBackupDir, Addrs: []string{n.addr()}})
	}
	return ts
}

func (s *sim) record(format string, args ...any) {
	s.log = append(s.log, fmt.Sprintf(format, args...))
}

func (n *simNode) addr() string { return fmt.Sprintf("10.0.0.%d", 10+n.id) }

// setNames renames the HSMs (before any run): the sim plays either naming.
func (s *sim) setNames(names simNames) {
	s.names = names
	for _, n := range s.nodes {
		n.entries = map[string]bool{names.local: true}
		n.boot()
	}
}

// configured reads the HSMs from the node's files, like the stand-in.
func (n *simNode) configured() []string {
	var out []string
	if n.holdsKeyEnv() {
		out = append(out, n.sim.names.local)
	}
	if n.hasVaultBlock() {
		out = append(out, n.sim.names.vault)
	}
	return out
}

func (n *simNode) hasVaultBlock() bool {
	cfg := "/etc/minkms/config.yaml"
	if c := optionValue(strings.Fields(n.argv), "--config"); c != "" {
		cfg = c
	}
	b := n.data(cfg)
	return bytes.Contains(b, []byte("vault:")) || bytes.Contains(b, []byte("openbao:"))
}

// works says whether the node can use HSM h right now.
func (n *simNode) works(h string) bool {
	return h == n.sim.names.local || (n.sim.vault && !n.badVault)
}

// boot is a restart: it unseals or fails, under the sim's unseal policy.
func (n *simNode) boot() {
	n.pid++
	n.active = n.configured()
	n.running = false
	n.countdown = n.crashIn
	if n.failAll || (n.failStart && n.hasVaultBlock()) {
		return
	}
	unsealed := false
	for _, h := range n.active {
		if n.sim.unsealAll && !n.works(h) {
			return
		}
		if n.entries[h] && n.works(h) && n.versionOK(h) {
			unsealed = true
		}
	}
	if !unsealed {
		return
	}
	for _, h := range n.active {
		if n.works(h) && !n.entries[h] {
			n.entries[h] = true
			n.sealed(h)
		}
	}
	n.running = true
}

// tick is one `systemctl show`: a node set to crash is restarted by
// systemd when its countdown runs out.
func (n *simNode) tick() {
	if n.crashIn == 0 || !n.running || !n.hasVaultBlock() {
		return
	}
	if n.countdown--; n.countdown <= 0 {
		n.restarts++
		n.boot()
	}
}

func (n *simNode) primary() string {
	if len(n.active) > 0 {
		return n.active[0]
	}
	return ""
}

// trusts says whether two running nodes accept each other's inter-node key.
func (s *sim) trusts(a, b *simNode) bool {
	if s.rule == "primary" {
		return a.primary() == b.primary()
	}
	for _, x := range a.active {
		for _, y := range b.active {
			if x == y {
				return true
			}
		}
	}
	return false
}

// group is the set of running nodes n can talk to (itself included).
func (s *sim) group(n *simNode) []*simNode {
	if !n.running {
		return nil
	}
	var g []*simNode
	for _, m := range s.nodes {
		if m.running && s.trusts(n, m) {
			g = append(g, m)
		}
	}
	return g
}

func (s *sim) quorum(n *simNode) bool { return len(s.group(n))*2 > len(s.nodes) }

// show answers `systemctl show` of the unit's state.
func (n *simNode) show(ctx context.Context, _ remote.Command, _ []byte) (remote.Result, error) {
	if n.onShow != nil {
		if err := n.onShow(ctx); err != nil {
			return remote.Result{}, err
		}
	}
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	n.tick()
	// a unit that cannot start ends "failed" (start-limit-hit) in systemd
	state := "ActiveState=failed\nSubState=failed\nMainPID=0\n"
	if n.running {
		state = fmt.Sprintf("ActiveState=active\nSubState=running\nMainPID=%d\n", n.pid)
	}
	return remote.Result{Stdout: []byte(fmt.Sprintf("%sNRestarts=%d\n", state, n.restarts))}, nil
}

// restart answers systemd.RestartUnit: the node boots from its files.
func (n *simNode) restart(context.Context, remote.Command, []byte) (remote.Result, error) {
	n.sim.mu.Lock()
	n.boot()
	n.sim.record("%s restart", n.name)
	hook := n.onRestart
	n.sim.mu.Unlock()
	if hook != nil {
		hook()
	}
	return remote.Result{}, nil
}

// createLock answers AcquireLock's `set -C; cat > "$1"`: the file is
// created only when it does not exist.
func (n *simNode) createLock(_ context.Context, c remote.Command, stdin []byte) (remote.Result, error) {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	p := c.Args[4]
	if n.exists(p) {
		return remote.Result{ExitCode: 1, Stderr: []byte("cannot overwrite existing file")}, nil
	}
	n.node.SetFile(p, remotetest.File{Data: stdin, Mode: 0o600})
	return remote.Result{}, nil
}

// rm answers `rm -f -- PATH`.
func (n *simNode) rm(_ context.Context, c remote.Command, _ []byte) (remote.Result, error) {
	n.node.RemoveFile(c.Args[3])
	return remote.Result{}, nil
}

// simAPI is the node's key manager API.
type simAPI struct{ n *simNode }

func (a simAPI) Live(context.Context) error {
	if !a.n.running {
		return errors.New("connection refused")
	}
	return nil
}

func (a simAPI) Ready(context.Context) error {
	a.n.sim.mu.Lock()
	defer a.n.sim.mu.Unlock()
	if !a.n.running || !a.n.sim.quorum(a.n) {
		return errors.New("503 not ready")
	}
	return nil
}

func (a simAPI) ClusterStatus(context.Context) (*kmsapi.ClusterStatus, error) {
	s := a.n.sim
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.noKey {
		return nil, ErrNoAPIKey
	}
	if !a.n.running {
		return nil, errors.New("connection refused")
	}
	g := s.group(a.n)
	cs := &kmsapi.ClusterStatus{Up: map[uint32]kmsapi.NodeStatus{}, Down: map[uint32]string{}}
	leader := -1
	if len(g)*2 > len(s.nodes) {
		leader = g[0].id
		for _, m := range g {
			if m.id == s.nodes[s.leader].id {
				leader = m.id
			}
		}
	}
	in := map[int]bool{}
	for _, m := range g {
		in[m.id] = true
		role := "Follower"
		if m.id == leader {
			role = "Leader"
		}
		var hsm []string
		for h := range m.entries {
			hsm = append(hsm, h)
		}
		sort.Strings(hsm)
		cs.Up[uint32(m.id)] = kmsapi.NodeStatus{ID: uint32(m.id), Host: m.addr() + ":7373", Role: role, LeaderID: int64(leader), HSM: hsm, HSMActive: append([]string(nil), m.active...)}
	}
	for _, m := range s.nodes {
		if !in[m.id] {
			cs.Down[uint32(m.id)] = m.addr() + ":7373"
		}
	}
	return cs, nil
}

// listRuns answers `find BACKUPDIR -mindepth 1 -maxdepth 1 -type d`.
func (n *simNode) listRuns(context.Context, remote.Command, []byte) (remote.Result, error) {
	seen := map[string]bool{}
	var out []string
	for _, p := range n.node.Paths() {
		rest, ok := strings.CutPrefix(p, DefaultBackupDir+"/")
		if !ok {
			continue
		}
		run, _, _ := strings.Cut(rest, "/")
		if !seen[run] {
			seen[run] = true
			out = append(out, run)
		}
	}
	sort.Strings(out)
	return remote.Result{Stdout: []byte(strings.Join(out, "\n") + "\n")}, nil
}

// journal plays the node's log: why its Vault HSM did not unseal.
func (n *simNode) journal(context.Context, remote.Command, []byte) (remote.Result, error) {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	out := "minkms[1]: INFO  Starting server instance...\n"
	if n.hasVaultBlock() && !n.works(n.sim.names.vault) {
		out += "minkms[1]: ERROR vault: approle login failed: permission denied\n"
	}
	return remote.Result{Stdout: []byte(out)}, nil
}

// showUnitFiles answers ResolveUnitFiles' `systemctl show -p ...`.
func (n *simNode) showUnitFiles(context.Context, remote.Command, []byte) (remote.Result, error) {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	argv := n.argv
	if argv == "" {
		argv = "/usr/local/bin/minkms server $MINIO_KMS_VOLUME $MINIO_KMS_OPTS"
	}
	files := n.envFiles
	if files == nil {
		files = []string{"/etc/default/minkms"}
	}
	out := fmt.Sprintf("ExecStart={ path=/usr/local/bin/minkms ; argv[]=%s ; ignore_errors=no ; start_time=[n/a] ; stop_time=[n/a] ; pid=0 ; code=(null) ; status=0/0 }\n", argv)
	for _, f := range files {
		out += "EnvironmentFiles=" + f + " (ignore_errors=yes)\n"
	}
	out += "Environment=" + strings.Join(n.unitEnv, " ") + "\nFragmentPath=/etc/systemd/system/minkms.service\nDropInPaths=" + n.dropIn + "\n"
	return remote.Result{Stdout: []byte(out)}, nil
}

// fileCheck answers the file preflight's script (backup dir, then paths)
// from the node's files, links and mounts.
func (n *simNode) fileCheck(_ context.Context, c remote.Command, _ []byte) (remote.Result, error) {
	var out strings.Builder
	_, backup := n.node.MountOf(c.Args[4])
	for _, p := range c.Args[5:] {
		kind := "missing"
		if n.exists(p) {
			kind = "file"
		}
		link, isLink := n.node.Link(p)
		if isLink {
			kind = "link"
		}
		_, m := n.node.MountOf(path.Dir(p))
		ro := "no"
		if m.ReadOnly {
			ro = "yes"
		}
		fmt.Fprintf(&out, "%s\t%s\t%d\tyes\t%s\t%d\t%d\t%s\n", p, kind, len(n.data(p)), ro, m.Free, backup.Free, link)
	}
	return remote.Result{Stdout: []byte(out.String())}, nil
}

// environ answers whether the main process holds the HSM key: it does when
// the env file or the unit's environment gives it.
func (n *simNode) environ(context.Context, remote.Command, []byte) (remote.Result, error) {
	n.sim.mu.Lock()
	defer n.sim.mu.Unlock()
	if n.holdsKeyEnv() || n.keyInProc {
		return remote.Result{}, nil
	}
	return remote.Result{ExitCode: 1}, nil
}

func (n *simNode) holdsKeyEnv() bool {
	for _, e := range n.unitEnv {
		if strings.HasPrefix(e, EnvKey+"=") {
			return true
		}
	}
	return bytes.Contains(n.data("/etc/default/minkms"), []byte(EnvKey+"="))
}

// grepKey answers the search of the unit's drop-ins for the key.
func (n *simNode) grepKey(context.Context, remote.Command, []byte) (remote.Result, error) {
	if n.dropIn == "" {
		return remote.Result{ExitCode: 1}, nil
	}
	return remote.Result{Stdout: []byte(n.dropIn + ":2:" + EnvKey + "\n")}, nil
}
