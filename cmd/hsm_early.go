package cmd

import (
	"errors"
	"fmt"
	"os"
	"strconv"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/kmsctl/kmsctl/inventory"
	"github.com/kmsctl/kmsctl/migrate"
)

// refuseEarly runs every check of enable-vault that needs no node, before
// the first connection: in CI a refusal must come at once and say what to
// pass, not after connecting to every node. It returns the desired end
// state and the saved plan (nil without --plan). The flags of a saved plan
// are taken from it; a flag that contradicts it is refused naming both.
func (o *HSMEnableVaultOptions) refuseEarly() (migrate.Desired, *migrate.Plan, error) {
	if err := o.validate(); err != nil {
		return migrate.Desired{}, nil, err
	}
	if o.Limit != "" {
		return migrate.Desired{}, nil, usageError(errors.New("--limit: enable-vault always works on every node of the inventory: the nodes of one cluster share one root key, so all of them must switch HSM (use a separate inventory per cluster)"))
	}
	if !o.DryRun && !o.Yes && o.Confirm == nil {
		return migrate.Desired{}, nil, errNoTerminal(" (after reviewing --dry-run)")
	}
	saved, err := loadPlan(o.PlanIn)
	if err != nil {
		return migrate.Desired{}, nil, err
	}
	if err := o.adoptPlanFlags(saved); err != nil {
		return migrate.Desired{}, nil, err
	}
	inv, err := o.Inventory()
	if err != nil {
		return migrate.Desired{}, nil, err
	}
	o.Inventory = func() (*inventory.Inventory, error) { return inv, nil } // read once
	if saved != nil && saved.InventoryDigest != "" && saved.InventoryDigest != inv.Digest() {
		return migrate.Desired{}, nil, &ExitError{Code: ExitPreflightFailed, Err: fmt.Errorf("--plan %s: %w: the inventory %s changed since the plan; make a new plan with --dry-run --out", o.PlanIn, migrate.ErrStalePlan, inv.File)}
	}
	if err := o.secretFilesReadable(inv); err != nil {
		return migrate.Desired{}, nil, err
	}
	vault, err := vaultSettings(inv, o.Secrets) // the secret is read here, once per run
	if err != nil {
		return migrate.Desired{}, nil, usageError(err) // an unreadable secret: fix the input
	}
	d, err := desiredFrom(inv, vault, o.Stage2, o.VaultBlock, o.KeepLocalHSM)
	if err != nil {
		return d, nil, usageError(err) // an unreadable secret: fix the input
	}
	if err := d.Vault.Validate(); err != nil {
		return d, nil, usageError(fmt.Errorf("%s: %w", inv.File, err))
	}
	return d, saved, nil
}

// adoptPlanFlags takes --stage2, --keep-local-hsm, --keep-local-entry and
// --vault-block from a saved plan unless given; given and different is a
// usage error.
func (o *HSMEnableVaultOptions) adoptPlanFlags(p *migrate.Plan) error {
	if p == nil {
		return nil
	}
	s := p.Settings
	flags := []struct {
		name      string
		cur       *string
		fromPlan  string
		skipEmpty bool
	}{
		{"stage2", &o.Stage2, string(s.Stage2), true},
		{"vault-block", &o.VaultBlock, s.Block, true},
	}
	for _, fl := range flags {
		if fl.skipEmpty && fl.fromPlan == "" {
			continue
		}
		if err := o.adopt(fl.name, fl.cur, fl.fromPlan); err != nil {
			return err
		}
	}
	for _, b := range []struct {
		name     string
		cur      *bool
		fromPlan bool
	}{
		{"keep-local-hsm", &o.KeepLocalHSM, s.KeepLocalHSM},
		{"keep-local-entry", &o.KeepLocalEntry, s.KeepLocalEntry},
	} {
		v := strconv.FormatBool(*b.cur)
		if err := o.adopt(b.name, &v, strconv.FormatBool(b.fromPlan)); err != nil {
			return err
		}
		*b.cur = v == "true"
	}
	return nil
}

// adopt sets *cur to the plan's value, or refuses a given flag that differs.
func (o *HSMEnableVaultOptions) adopt(name string, cur *string, fromPlan string) error {
	if !o.Changed[name] {
		*cur = fromPlan
		return nil
	}
	if *cur != fromPlan {
		return usageError(fmt.Errorf("--%s %s contradicts the plan %s, made with --%s %s: drop the flag, or make a new plan with it (--dry-run --out)", name, *cur, o.PlanIn, name, fromPlan))
	}
	return nil
}

// changedFlags names the flags given on c's command line.
func changedFlags(c *cobra.Command) map[string]bool {
	out := map[string]bool{}
	c.Flags().Visit(func(f *pflag.Flag) { out[f.Name] = true })
	return out
}

// secretFilesReadable checks the API key (read now, as the session will)
// and every sudo password file a node may need, without connecting.
func (o *HSMEnableVaultOptions) secretFilesReadable(inv *inventory.Inventory) error {
	if _, err := o.APIKey(); err != nil {
		return usageError(fmt.Errorf("API key: %w", err))
	}
	for node, file := range o.DialerOptions(inv.Nodes()).SudoPasswordFiles {
		if file == "" {
			continue
		}
		f, err := os.Open(file)
		if err != nil {
			return usageError(fmt.Errorf("node %s: sudo password file: %w", node, err))
		}
		f.Close()
	}
	return nil
}
