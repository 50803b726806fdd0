package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"

	"github.com/kmsctl/kmsctl/lab/internal/labdir"
	"github.com/kmsctl/kmsctl/lab/internal/node"
)

// bootNodes prepares and boots every node in parallel and records each one in
// the state as soon as it runs.
func bootNodes(ctx context.Context, l labdir.Layout, m *material, labBin string, st *labdir.State) error {
	specs := node.Specs(m.n)
	st.Nodes = make([]labdir.NodeState, len(specs))
	errs := make([]error, len(specs))
	var wg sync.WaitGroup
	for i, s := range specs {
		st.Nodes[i] = labdir.NodeState{Index: s.Index, Name: s.Name(), Address: s.Address(),
			Netns: s.Netns(), Veth: s.Veth(), Cgroup: node.CgroupPath(s)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			st.Nodes[i].PID, errs[i] = bootNode(ctx, l, m, labBin, s)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

func bootNode(ctx context.Context, l labdir.Layout, m *material, labBin string, s node.Spec) (int, error) {
	dir := l.NodeDir(s.Name())
	if err := node.Prepare(dir, m.files(s)); err != nil {
		return 0, err
	}
	if err := node.SetupNetwork(ctx, s); err != nil {
		return 0, err
	}
	pid, err := node.Boot(labBin, dir, l.BinDir(), s)
	if err != nil {
		return 0, fmt.Errorf("boot %s: %w", s.Name(), err)
	}
	if err := os.WriteFile(filepath.Join(dir, "pid"), []byte(strconv.Itoa(pid)+"\n"), 0o644); err != nil {
		return pid, fmt.Errorf("pid file of %s: %w", s.Name(), err)
	}
	return pid, nil
}
