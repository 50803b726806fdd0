package migrate

import (
	"errors"
	"fmt"
)

// CheckSavedPlan refuses a reviewed plan that no longer matches the nodes:
// each file must still be as planned before, or already as planned after (a
// resumed run). Settings and the inventory must not have changed either.
func CheckSavedPlan(saved, now *Plan, inventoryDigest string) error {
	var errs []error
	if saved.Schema != PlanSchema {
		return fmt.Errorf("%w: plan schema %q, this kmsctl writes %q", ErrStalePlan, saved.Schema, PlanSchema)
	}
	if saved.InventoryDigest != "" && saved.InventoryDigest != inventoryDigest {
		errs = append(errs, errors.New("the inventory changed since the plan"))
	}
	if saved.Settings != now.Settings {
		errs = append(errs, errors.New("the Vault settings (or the approle secret) changed since the plan"))
	}
	for _, sp := range saved.Nodes {
		np, ok := now.Node(sp.Name)
		if !ok {
			errs = append(errs, fmt.Errorf("node %s is no longer in the inventory", sp.Name))
			continue
		}
		errs = append(errs, checkFile(sp.Name, sp.Stage1, np.Stage1.Before), checkFile(sp.Name, sp.Stage2, np.Stage2.Before))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("%w: %w; make a new plan with --dry-run --out", ErrStalePlan, err)
	}
	return nil
}

func checkFile(node string, planned FileChange, current string) error {
	if current == planned.Before || current == planned.After {
		return nil
	}
	return fmt.Errorf("node %s: %s is %s, the plan expected %s", node, planned.Path, short(current), short(planned.Before))
}

func short(digest string) string {
	if len(digest) > 19 {
		return digest[:19]
	}
	return digest
}
