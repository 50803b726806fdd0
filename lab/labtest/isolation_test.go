package labtest

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
)

// TestNodesAreIsolated writes a file in one node's overlaid directories and
// checks that neither the host nor another node sees it.
func TestNodesAreIsolated(t *testing.T) {
	l := needLab(t)
	if len(l.state.Nodes) < 2 {
		t.Skip("needs two nodes")
	}
	a, b := l.state.Nodes[0].Name, l.state.Nodes[1].Name
	var r [6]byte
	_, _ = rand.Read(r[:])
	name := "kmslab-isolation-" + hex.EncodeToString(r[:])
	for _, dir := range []string{"/etc", "/var/lib", "/root", "/tmp", "/home"} {
		t.Run(dir, func(t *testing.T) {
			p := dir + "/" + name
			t.Cleanup(func() { _, _ = l.exec(a, "rm", "-f", p) })
			if out, err := l.ssh("root", a, nil, "echo isolated > "+p+" && cat "+p); err != nil || strings.TrimSpace(out) != "isolated" {
				t.Fatalf("write on %s: %v %q", a, err, out)
			}
			if _, err := os.Stat(p); err == nil {
				t.Errorf("%s written on %s is visible on the host", p, a)
			}
			if out, err := l.exec(b, "test", "-e", p); err == nil {
				t.Errorf("%s written on %s is visible on %s %s", p, a, b, out)
			}
		})
	}
}

// TestNodeIdentity checks that each node has its own hostname, machine id and
// address, and cannot see the host's processes.
func TestNodeIdentity(t *testing.T) {
	l := needLab(t)
	ids := map[string]string{}
	for _, n := range l.state.Nodes {
		if got := strings.TrimSpace(l.mustExec(n.Name, "hostname")); got != n.Name {
			t.Errorf("hostname of %s is %q", n.Name, got)
		}
		id := strings.TrimSpace(l.mustExec(n.Name, "cat", "/etc/machine-id"))
		if other, dup := ids[id]; dup {
			t.Errorf("%s and %s share machine id", n.Name, other)
		}
		ids[id] = n.Name
		if got := strings.TrimSpace(l.mustExec(n.Name, "cat", "/proc/1/comm")); got != "systemd" {
			t.Errorf("PID 1 of %s is %q, want systemd", n.Name, got)
		}
		if out := l.mustExec(n.Name, "ip", "-4", "-o", "addr", "show", "eth0"); !strings.Contains(out, n.Address+"/24") {
			t.Errorf("%s eth0: %s", n.Name, out)
		}
	}
}

// TestHostRootReadOnly: outside its overlays and tmpfs mounts a node cannot
// write to the host, and the lab directory (keys, secrets) is hidden from it.
func TestHostRootReadOnly(t *testing.T) {
	l := needLab(t)
	node := l.state.Nodes[0].Name
	for _, p := range []string{"/opt/kmslab-probe", "/kmslab-probe", "/usr/kmslab-probe", "/usr/local/bin/kmslab-probe"} {
		if out, err := l.exec(node, "touch", p); err == nil || !strings.Contains(out, "Read-only file system") {
			_, _ = l.exec(node, "rm", "-f", p)
			t.Errorf("touch %s in %s: err=%v %q; want read-only", p, node, err, out)
		}
	}
	if out, err := l.exec(node, "ls", "-A", l.dir.Root); err == nil && strings.TrimSpace(out) != "" {
		t.Errorf("%s sees the lab directory: %q", node, out)
	}
}
