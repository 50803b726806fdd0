package e2e

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// nodeFile is one file of a node as `lab up` left it.
type nodeFile struct {
	Path, Owner, Mode string
	Data              []byte
}

// snapshotPaths are the files a migration changes (and the sealed root key).
var snapshotPaths = []string{"/etc/minkms/config.yaml", "/etc/default/minkms", "/var/lib/minkms/rek.json"}

var (
	snapOnce sync.Once
	snapshot map[string][]nodeFile
)

// initialState records every node's files the first time a test asks, so
// reset can put the lab back to its `up` state between tests. The record is
// kept in the lab directory, keyed by the lab's state file, so later test
// processes on the same lab find the state of `up`, not that of a test.
func (l *lab) initialState(t *testing.T) map[string][]nodeFile {
	t.Helper()
	snapOnce.Do(func() {
		state, err := os.ReadFile(filepath.Join(l.dir, "state.json"))
		if err != nil {
			t.Fatalf("lab state: %v", err)
		}
		sum := sha256.Sum256(state)
		file := filepath.Join(l.dir, "e2e-initial-"+hex.EncodeToString(sum[:8])+".json")
		if b, err := os.ReadFile(file); err == nil && json.Unmarshal(b, &snapshot) == nil {
			return
		}
		snapshot = map[string][]nodeFile{}
		for _, n := range l.nodes {
			for _, p := range snapshotPaths {
				st := must(t, l.exec(t, nil, n, "stat", "-c", "%U:%G %a", p), "stat "+p)
				owner, mode, _ := strings.Cut(strings.TrimSpace(st.stdout), " ")
				data := must(t, l.exec(t, nil, n, "cat", p), "cat "+p).stdout
				snapshot[n] = append(snapshot[n], nodeFile{Path: p, Owner: owner, Mode: mode, Data: []byte(data)})
			}
		}
		b, _ := json.Marshal(snapshot)
		if err := os.WriteFile(file, b, 0o600); err != nil {
			t.Fatalf("save lab snapshot: %v", err)
		}
	})
	return snapshot
}

// reset heals every fault, puts every node's files back as `up` wrote them,
// removes kmsctl's backups and locks, restarts all nodes and waits until
// the cluster is healthy again.
func (l *lab) reset(t *testing.T) {
	t.Helper()
	snap := l.initialState(t)
	l.labCmd(t, "heal", "vault")
	l.labCmd(t, "heal", "all")
	var wg sync.WaitGroup
	for _, n := range l.nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for _, f := range snap[n] {
				must(t, l.exec(t, f.Data, n, "sh", "-c", `cat > "$1.reset" && chown "$2" "$1.reset" && chmod "$3" "$1.reset" && mv -f "$1.reset" "$1"`, "sh", f.Path, f.Owner, f.Mode), "restore "+f.Path)
			}
			l.exec(t, nil, n, "sh", "-c", "rm -rf /var/lib/kmsctl /run/lock/kmsctl-*.lock")
			l.restartUnit(t, n)
		}()
	}
	wg.Wait()
	l.waitHealthy(t, 90*time.Second)
}

// waitHealthy polls `kmsctl status` until every node is healthy.
func (l *lab) waitHealthy(t *testing.T, limit time.Duration) {
	t.Helper()
	deadline := time.Now().Add(limit)
	var last result
	for time.Now().Before(deadline) {
		last = l.kmsctl(t, nil, "status", "-i", l.inventory())
		if last.code == 0 {
			return
		}
		time.Sleep(time.Second)
	}
	t.Fatalf("lab not healthy after %s: %s", limit, last)
}

func (l *lab) inventory() string { return l.dir + "/inventory.yaml" }

// file reads a file on a node.
func (l *lab) file(t *testing.T, node, path string) string {
	t.Helper()
	return must(t, l.exec(t, nil, node, "cat", path), "cat "+path).stdout
}

// restartUnit restarts the key manager on a node the way an operator would
// after many restarts in a row: reset-failed first, so systemd's start rate
// limit (5 starts in 10 s) does not refuse it.
func (l *lab) restartUnit(t *testing.T, node string) {
	t.Helper()
	must(t, l.exec(t, nil, node, "sh", "-c", "systemctl reset-failed minkms 2>/dev/null; systemctl restart minkms"), "restart minkms on "+node)
}

// restartAll restarts every node at once and waits until the cluster is
// healthy again.
func (l *lab) restartAll(t *testing.T) {
	t.Helper()
	var wg sync.WaitGroup
	for _, n := range l.nodes {
		wg.Add(1)
		go func() { defer wg.Done(); l.restartUnit(t, n) }()
	}
	wg.Wait()
	l.waitHealthy(t, 90*time.Second)
}
