package remotetest

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"sync"

	"github.com/kmsctl/kmsctl/remote"
)

// Dialer hands out fake nodes by Target.Name and records every Dial.
// Safe for concurrent use.
type Dialer struct {
	mu      sync.Mutex
	nodes   map[string]*Node
	faults  []*Fault
	targets []remote.Target
}

var _ remote.Dialer = (*Dialer)(nil)

// NewDialer returns a dialer serving nodes.
func NewDialer(nodes ...*Node) *Dialer {
	d := &Dialer{nodes: map[string]*Node{}}
	for _, n := range nodes {
		d.Add(n)
	}
	return d
}

// Add makes n reachable under its name.
func (d *Dialer) Add(n *Node) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.nodes[n.Name()] = n
}

// Fail injects a Dial failure (Fault.Op is forced to OpDial; Match is the
// node name, empty for every node).
func (d *Dialer) Fail(f Fault) {
	d.mu.Lock()
	defer d.mu.Unlock()
	f.Op = OpDial
	d.faults = append(d.faults, &f)
}

// Targets returns every Target dialled, in order.
func (d *Dialer) Targets() []remote.Target {
	d.mu.Lock()
	defer d.mu.Unlock()
	return slices.Clone(d.targets)
}

// Dial returns the node named t.Name. A closed node is reopened, as a new
// SSH connection would be.
func (d *Dialer) Dial(ctx context.Context, t remote.Target) (remote.Node, error) {
	d.mu.Lock()
	d.targets = append(d.targets, t)
	n := d.nodes[t.Name]
	fault := takeFault(&d.faults, OpDial, t.Name)
	d.mu.Unlock()
	addr := dialAddr(t)
	switch {
	case fault != nil && fault.Block:
		<-ctx.Done()
		return nil, &remote.DialError{Node: t.Name, Addr: addr, Err: ctx.Err()}
	case fault != nil:
		return nil, &remote.DialError{Node: t.Name, Addr: addr, Err: fault.Err}
	case ctx.Err() != nil:
		return nil, &remote.DialError{Node: t.Name, Addr: addr, Err: ctx.Err()}
	case n == nil:
		return nil, &remote.DialError{Node: t.Name, Addr: addr, Err: fmt.Errorf("remotetest: no node named %q", t.Name)}
	}
	n.reopen()
	return n, nil
}

// dialAddr is the host:port a real dial of t goes to (port 22 unless set),
// as a *remote.DialError names it.
func dialAddr(t remote.Target) string {
	port := t.Port
	if port == 0 {
		port = 22
	}
	return net.JoinHostPort(t.Address, strconv.Itoa(port))
}

// reopen clears the closed mark for a new Dial.
func (n *Node) reopen() {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closed = false
}
