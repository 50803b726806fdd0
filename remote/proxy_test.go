package remote

import (
	"context"
	"errors"
	"fmt"
	"testing"
)

// Two nodes behind one in-process bastion: each hop is verified against its
// own known_hosts, the bastion connection is shared, and it is closed when
// the last node behind it is.
func TestProxyJump(t *testing.T) {
	f := newFixture(t)
	bastion, bastionKey := f.server()
	node1, key1 := f.server()
	node2, key2 := f.server()
	bastionKH := f.knownHosts("bastion_kh", khLine(bastion.addr, bastionKey.PublicKey()))
	nodesKH := f.knownHosts("nodes_kh", khLine(node1.addr, key1.PublicKey()), khLine(node2.addr, key2.PublicKey()))
	jump := f.target("bastion", bastion.addr, bastionKH)
	d := NewSSHDialer(testOpts())
	var nodes []Node
	for i, srv := range []*testServer{node1, node2} {
		tg := f.target([]string{"kms-1", "kms-2"}[i], srv.addr, nodesKH)
		tg.ProxyJump = &jump
		n, err := d.Dial(context.Background(), tg)
		if err != nil {
			t.Fatalf("Dial %s via bastion: %v", tg.Name, err)
		}
		nodes = append(nodes, n)
		if res := mustRun(t, n, Command{Args: []string{"echo", tg.Name}}); string(res.Stdout) != tg.Name+"\n" {
			t.Fatalf("stdout %q", res.Stdout)
		}
	}
	for _, srv := range []*testServer{node1, node2} {
		if execs, _, _, _ := srv.stats(); len(execs) != 1 {
			t.Fatalf("node saw %d commands, want 1", len(execs))
		}
	}
	if execs, conns, _, _ := bastion.stats(); conns != 1 || len(execs) != 0 {
		t.Fatalf("bastion: %d connections, %d commands; want 1 shared connection and no command", conns, len(execs))
	}
	nodes[0].Close()
	if _, _, open, _ := bastion.stats(); open != 1 {
		t.Fatalf("bastion closed while kms-2 still uses it")
	}
	nodes[1].Close()
	waitFor(t, func() bool { _, _, open, _ := bastion.stats(); return open == 0 })
}

func TestProxyJumpVerifiesEachHop(t *testing.T) {
	f := newFixture(t)
	bastion, bastionKey := f.server()
	node, nodeKey := f.server()
	other, _ := newSigner(t)
	tests := []struct {
		name      string
		bastionKH string
		nodeKH    string
		wantNode  string
	}{
		{name: "unknown target", bastionKH: khLine(bastion.addr, bastionKey.PublicKey()), nodeKH: "# empty", wantNode: "kms-1"},
		{name: "changed bastion", bastionKH: khLine(bastion.addr, other.PublicKey()), nodeKH: khLine(node.addr, nodeKey.PublicKey()), wantNode: "bastion"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			jump := f.target("bastion", bastion.addr, f.knownHosts("b", tc.bastionKH))
			tg := f.target("kms-1", node.addr, f.knownHosts("n", tc.nodeKH))
			tg.ProxyJump = &jump
			_, err := dial(t, testOpts(), tg)
			var hke *HostKeyError
			var de *DialError
			if !errors.As(err, &hke) || hke.Node != tc.wantNode || !errors.As(err, &de) || de.Via != bastion.addr {
				t.Fatalf("err = %v, want a host key error of %s reported via the bastion", err, tc.wantNode)
			}
		})
	}
}

// Parallel dials through one bastion share a single bastion connection.
func TestProxyJumpParallelDialsShareBastion(t *testing.T) {
	f := newFixture(t)
	bastion, bastionKey := f.server()
	node, nodeKey := f.server()
	jump := f.target("bastion", bastion.addr, f.knownHosts("b", khLine(bastion.addr, bastionKey.PublicKey())))
	kh := f.knownHosts("n", khLine(node.addr, nodeKey.PublicKey()))
	d := NewSSHDialer(testOpts())
	errs := make(chan error, 6)
	nodes := make(chan Node, 6)
	for i := range 6 {
		go func() {
			tg := f.target(fmt.Sprintf("kms-%d", i+1), node.addr, kh)
			tg.ProxyJump = &jump
			n, err := d.Dial(context.Background(), tg)
			if err == nil {
				nodes <- n
			}
			errs <- err
		}()
	}
	for range 6 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if _, conns, _, _ := bastion.stats(); conns != 1 {
		t.Fatalf("bastion saw %d connections, want 1", conns)
	}
	for range 6 {
		(<-nodes).Close()
	}
	waitFor(t, func() bool { _, _, open, _ := bastion.stats(); return open == 0 })
}
