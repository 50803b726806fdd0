package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/kmsctl/kmsctl/lab/internal/labdir"
	"github.com/kmsctl/kmsctl/lab/internal/node"
	"github.com/kmsctl/kmsctl/lab/internal/vaultlab"
)

// cmdDown stops every node (by cgroup), Vault and the TokenReview endpoint (by
// PID), and removes the namespaces, veths and bridge. It is safe to run twice
// and after a crashed up: up writes state.json before creating anything, and
// down also sweeps lab nodes by their lab names when that state exists.
// Without state in DIR it touches nothing unless --force is given, so a down
// with the wrong DIR cannot take another directory's lab apart.
func cmdDown(ctx context.Context, args []string) error {
	var force bool
	l, rest, err := parseDir("down", args, func(fs *flag.FlagSet) {
		fs.BoolVar(&force, "force", false, "sweep lab nodes and bridge even without state in DIR")
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return errors.New("usage: lab down [--dir DIR] [--force]")
	}
	if err := requireRoot(); err != nil {
		return err
	}
	st, err := l.LoadState()
	switch {
	case errors.Is(err, labdir.ErrNoState) && !force:
		return refuseForeign(l)
	case errors.Is(err, labdir.ErrNoState):
		st = &labdir.State{}
	case err != nil:
		return err
	}
	if err := teardown(ctx, l, st); err != nil {
		return err
	}
	if err := os.Remove(l.StateFile()); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	fmt.Println("lab down: stopped")
	return nil
}

func teardown(ctx context.Context, l labdir.Layout, st *labdir.State) error {
	errs := []error{stopNodes(ctx, st)}
	stopK8sEndpoint(st.K8sPID)
	for _, pid := range findK8sEndpoints(l.Root) {
		stopK8sEndpoint(pid)
	}
	if _, serr := os.Stat(l.VaultDir()); serr == nil {
		srv, err := vaultlab.Open(vaultConfig(l))
		if err == nil {
			err = srv.Stop(ctx)
		}
		errs = append(errs, err)
	}
	errs = append(errs, node.RemoveBridge(ctx))
	node.RemoveCgroupParent()
	return errors.Join(errs...)
}

// refuseForeign explains a down in a DIR without state: nothing to do, or the
// lab resources on this machine belong to another DIR.
func refuseForeign(l labdir.Layout) error {
	left := node.LeftoverSpecs()
	_, bridgeErr := os.Stat("/sys/class/net/" + node.Bridge)
	if len(left) == 0 && bridgeErr != nil {
		fmt.Println("lab down: nothing to stop in " + l.Root)
		return nil
	}
	names := make([]string, len(left))
	for i, s := range left {
		names[i] = s.Name()
	}
	return fmt.Errorf("no lab state in %s, but lab resources exist (bridge %s, nodes [%s]): use the running lab's --dir, or --force to sweep them",
		l.Root, node.Bridge, strings.Join(names, " "))
}

// stopNodes kills the nodes recorded in the state plus any leftover lab node.
func stopNodes(ctx context.Context, st *labdir.State) error {
	specs := node.LeftoverSpecs()
	for _, n := range st.Nodes {
		specs = append(specs, node.Spec{Index: n.Index})
	}
	var errs []error
	done := map[int]bool{}
	for _, s := range specs {
		if done[s.Index] {
			continue
		}
		done[s.Index] = true
		errs = append(errs, node.KillCgroup(s, 10*time.Second), node.TeardownNetwork(ctx, s))
	}
	return errors.Join(errs...)
}
