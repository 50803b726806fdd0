package remotetest

import (
	"slices"
	"strings"

	"github.com/kmsctl/kmsctl/remote"
)

// Op names a Node or Dialer operation in calls and faults.
type Op string

// The operations recorded and open to failure injection.
const (
	OpDial            Op = "Dial"
	OpRun             Op = "Run"
	OpReadFile        Op = "ReadFile"
	OpStat            Op = "Stat"
	OpWriteFileAtomic Op = "WriteFileAtomic"
	OpDialTCP         Op = "DialTCP"
	OpClose           Op = "Close"
)

// Call is one recorded operation with what it was given.
type Call struct {
	Op    Op
	Args  []string // Run: argv
	Stdin []byte   // Run: everything fed to stdin
	Sudo  bool     // Run: asked for root
	Path  string   // ReadFile, Stat, WriteFileAtomic
	Data  []byte   // WriteFileAtomic
	Write remote.WriteOptions
	Addr  string // DialTCP
}

// Calls returns every call so far, in order.
func (n *Node) Calls() []Call {
	n.mu.Lock()
	defer n.mu.Unlock()
	return slices.Clone(n.calls)
}

// Commands returns the argv of every Run, each joined by spaces, in order:
// the easy thing to compare in a table test.
func (n *Node) Commands() []string {
	var out []string
	for _, c := range n.Calls() {
		if c.Op == OpRun {
			out = append(out, strings.Join(c.Args, " "))
		}
	}
	return out
}

// Fault makes matching operations fail.
type Fault struct {
	Op Op
	// Match selects calls: for Run a prefix of the space-joined argv, for
	// file operations the exact path, for DialTCP the exact address, for
	// Dial the node name. Empty matches every call of Op.
	Match string
	// Err is returned (wrapped with the node name). Ignored when Block is set.
	Err error
	// Block makes the call wait until its context ends, to play a node that
	// stopped answering.
	Block bool
	// Times is how many calls fail; 0 means every one.
	Times int
}

// Fail injects f into later calls.
func (n *Node) Fail(f Fault) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.faults = append(n.faults, &f)
}

// matchFault consumes and returns the first fault matching c (caller holds mu).
func (n *Node) matchFault(c Call) *Fault {
	return takeFault(&n.faults, c.Op, callKey(c))
}

func takeFault(faults *[]*Fault, op Op, key string) *Fault {
	for i, f := range *faults {
		if f.Op != op || !faultMatches(f, op, key) {
			continue
		}
		if f.Times > 0 {
			if f.Times--; f.Times == 0 {
				*faults = slices.Delete(*faults, i, i+1)
			}
		}
		return f
	}
	return nil
}

func faultMatches(f *Fault, op Op, key string) bool {
	if op == OpRun {
		return strings.HasPrefix(key, f.Match)
	}
	return f.Match == "" || f.Match == key
}

// callKey is what Fault.Match is compared with.
func callKey(c Call) string {
	switch c.Op {
	case OpRun:
		return strings.Join(c.Args, " ")
	case OpDialTCP:
		return c.Addr
	}
	return c.Path
}
