package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/kmsctl/kmsctl/lab/internal/labdir"
	"github.com/kmsctl/kmsctl/lab/internal/node"
	"github.com/kmsctl/kmsctl/lab/internal/standin"
)

// cmdUp starts Vault and N nodes and writes DIR. On failure it leaves what it
// started recorded in state.json, so `lab down` cleans up.
func cmdUp(ctx context.Context, args []string) error {
	var nodes int
	var timeout time.Duration
	var v standin.Variant
	l, rest, err := parseDir("up", args, func(fs *flag.FlagSet) {
		fs.IntVar(&nodes, "nodes", 3, "number of key manager nodes (1.."+fmt.Sprint(node.MaxNodes)+")")
		fs.DurationVar(&timeout, "timeout", 3*time.Minute, "how long to wait for every node to be ready")
		variantFlags(fs, &v, os.Getenv)
	})
	if err != nil {
		return err
	}
	if len(rest) > 0 || nodes < 1 || nodes > node.MaxNodes {
		return fmt.Errorf("usage: lab up [--nodes 1..%d] [--dir DIR] %s", node.MaxNodes, variantUsage)
	}
	if err := v.Check(); err != nil {
		return err
	}
	if err := requireRoot(); err != nil {
		return err
	}
	start := time.Now()
	if err := checkFree(l); err != nil {
		return err
	}
	if err := up(ctx, l, nodes, v, timeout); err != nil {
		return fmt.Errorf("%w (clean up with: lab down --dir %s)", err, l.Root)
	}
	fmt.Printf("lab up: %d nodes ready in %.1fs (%s); . %s\n", nodes, time.Since(start).Seconds(), v, l.EnvFile())
	return nil
}

// checkFree refuses to start a second lab: the network names are machine-wide.
func checkFree(l labdir.Layout) error {
	if _, err := l.LoadState(); err == nil {
		return fmt.Errorf("a lab is already up in %s (run: lab down --dir %s)", l.Root, l.Root)
	} else if !errors.Is(err, labdir.ErrNoState) {
		return err
	}
	if _, err := os.Stat("/sys/class/net/" + node.Bridge); err == nil {
		return fmt.Errorf("bridge %s exists: another lab runs on this machine (lab down --dir ITS_DIR)", node.Bridge)
	}
	return nil
}

func up(ctx context.Context, l labdir.Layout, n int, v standin.Variant, timeout time.Duration) error {
	bins, err := findBinaries(ctx)
	if err != nil {
		return err
	}
	if err := prepareHost(ctx, l, bins); err != nil {
		return err
	}
	m, err := newMaterial(ctx, l, n, v)
	if err != nil {
		return err
	}
	st := &labdir.State{Bridge: node.Bridge, Variant: v}
	if err := l.SaveState(st); err != nil {
		return err
	}
	if err := node.EnsureBridge(ctx); err != nil {
		return err
	}
	vaultDone := make(chan vaultResult, 1)
	go func() { vaultDone <- startVault(ctx, l, bins.src) }()
	bootErr := bootNodes(ctx, l, m, bins.lab, st)
	vr := <-vaultDone
	st.K8sPID = vr.k8sPID
	if err := l.SaveState(st); err != nil {
		return err
	}
	if err := errors.Join(bootErr, vr.err); err != nil {
		return err
	}
	if err := writeLabFiles(l, m, st, vr.info); err != nil {
		return err
	}
	return waitReady(ctx, l, st, timeout)
}
