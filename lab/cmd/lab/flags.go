package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/kmsctl/kmsctl/lab/internal/labdir"
)

// parseDir parses a sub-command's flags (--dir plus extra ones registered by
// setup) and returns the lab layout and the positional arguments.
func parseDir(name string, args []string, setup func(*flag.FlagSet)) (labdir.Layout, []string, error) {
	fs := flag.NewFlagSet("lab "+name, flag.ContinueOnError)
	dir := fs.String("dir", "", "lab directory (default $KMSCTL_LAB_DIR or "+labdir.DefaultDir+")")
	if setup != nil {
		setup(fs)
	}
	if err := fs.Parse(args); err != nil {
		return labdir.Layout{}, nil, err
	}
	root, err := labdir.Resolve(*dir)
	if err != nil {
		return labdir.Layout{}, nil, fmt.Errorf("lab directory: %w", err)
	}
	return labdir.Layout{Root: root}, fs.Args(), nil
}

// requireRoot fails early: namespaces, mounts and bridges need root.
func requireRoot() error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("the lab needs root (namespaces, mounts, network)")
	}
	return nil
}
