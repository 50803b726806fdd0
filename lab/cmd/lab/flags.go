package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"

	"github.com/kmsctl/kmsctl/lab/internal/labdir"
	"github.com/kmsctl/kmsctl/lab/internal/standin"
)

// variantUsage lists lab up's variant flags.
const variantUsage = "[--hsm-names legacy|product] [--unseal all|any] [--admin-identity pinned|derived] [--restart-recreates-removed]"

// variantFlags registers lab up's flags that choose the product behaviour the
// lab plays. Each defaults to its environment variable (LAB_HSM_NAMES,
// LAB_UNSEAL, LAB_ADMIN_IDENTITY, LAB_RESTART_RECREATES_REMOVED: the names
// env.sh exports), then to standin.Defaults, so test scripts pick variants
// without new flags.
func variantFlags(fs *flag.FlagSet, v *standin.Variant, getenv func(string) string) {
	or := func(env, def string) string {
		if e := getenv(env); e != "" {
			return e
		}
		return def
	}
	d := standin.Defaults
	fs.StringVar(&v.HSMNames, "hsm-names", or("LAB_HSM_NAMES", d.HSMNames), "HSM naming: legacy (local, vault:<mount>/<key>) or product (hsm:minio:soft, hsm:hashicorp:vault)")
	fs.StringVar(&v.Unseal, "unseal", or("LAB_UNSEAL", d.Unseal), "unseal policy: all (every configured HSM must work) or any")
	fs.StringVar(&v.AdminIdentity, "admin-identity", or("LAB_ADMIN_IDENTITY", d.AdminIdentity), "pinned (admin.identity in config.yaml) or derived (root API key derived from the first HSM)")
	recreate, err := strconv.ParseBool(or("LAB_RESTART_RECREATES_REMOVED", strconv.FormatBool(d.RestartRecreatesRemoved)))
	if err != nil {
		recreate = d.RestartRecreatesRemoved
	}
	fs.BoolVar(&v.RestartRecreatesRemoved, "restart-recreates-removed", recreate, "a start re-seals an entry removed with RemoveHSM")
}

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
