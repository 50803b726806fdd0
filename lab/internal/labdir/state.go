package labdir

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/kmsctl/kmsctl/lab/internal/standin"
)

// State records what `lab up` started, so that down, fault, heal, status and exec
// act on exactly those processes and names and nothing else.
type State struct {
	Nodes []NodeState `json:"nodes"`
	// Bridge is the host bridge name, created by up.
	Bridge string `json:"bridge"`
	// K8sPID is the lab's TokenReview endpoint (`lab __k8s-endpoint`).
	K8sPID int `json:"k8s_pid,omitempty"`
	// Variant is the product behaviour the lab was created to play
	// (lab up flags); lab heal returns a node's lab.yaml to it.
	Variant standin.Variant `json:"variant"`
}

// NodeState is one node's record.
type NodeState struct {
	Index   int    `json:"index"`
	Name    string `json:"name"`
	Address string `json:"address"`
	Netns   string `json:"netns"`
	Veth    string `json:"veth"`
	// Cgroup is the node's cgroup2 directory on the host; killing it stops the node.
	Cgroup string `json:"cgroup"`
	// PID is the host PID of the node's systemd (PID 1 inside the node).
	PID int `json:"pid"`
}

// ErrNoState means no lab was started in DIR (or it was already taken down).
var ErrNoState = errors.New("no lab state (run `lab up` first)")

// LoadState reads DIR/state.json.
func (l Layout) LoadState() (*State, error) {
	b, err := os.ReadFile(l.StateFile())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, ErrNoState
	}
	if err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	var s State
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("parse %s: %w", l.StateFile(), err)
	}
	return &s, nil
}

// SaveState writes DIR/state.json atomically.
func (l Layout) SaveState(s *State) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return fmt.Errorf("encode state: %w", err)
	}
	return WriteFileAtomic(l.StateFile(), append(b, '\n'), 0o644)
}

// Node finds a node by name ("kms-2") in the state.
func (s *State) Node(name string) (*NodeState, error) {
	for i := range s.Nodes {
		if s.Nodes[i].Name == name {
			return &s.Nodes[i], nil
		}
	}
	return nil, fmt.Errorf("no node %q in this lab", name)
}
