package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/kmsctl/kmsctl/lab/internal/labdir"
	"github.com/kmsctl/kmsctl/lab/internal/node"
	"github.com/kmsctl/kmsctl/lab/internal/standin"
	"github.com/kmsctl/kmsctl/lab/internal/vaultlab"
)

// knobFaults are fault kinds read by the stand-in from /etc/minkms-lab/faults/;
// the value says whether the kind takes a SECONDS argument.
var knobFaults = map[string]bool{"fail-start": false, "slow-start": true, "crash-after": true, "hang-on-stop": false}

// nodeFaultKinds lists every node fault kind, for usage messages.
const nodeFaultKinds = "fail-start [vault] | slow-start SECONDS | crash-after SECONDS | hang-on-stop | cutoff | cutoff-vault | split-rule | vault-block hsm.vault|hsm.hashicorp.vault" +
	" | hsm-names legacy|product | unseal all|any | restart-recreates-removed true|false"

// settingFaults are the fault kinds that set one lab.yaml key (read at the
// node's next start) to one of its values; heal sets the lab's own value
// (state.json's variant) back.
var settingFaults = map[string]struct {
	key     string
	allowed []string
	lab     func(standin.Variant) string
}{
	"hsm-names": {"hsm_names", []string{standin.NamesLegacy, standin.NamesProduct},
		func(v standin.Variant) string { return v.HSMNames }},
	"unseal": {"unseal", []string{standin.UnsealAll, standin.UnsealAny},
		func(v standin.Variant) string { return v.Unseal }},
	"restart-recreates-removed": {"restart_recreates_removed", []string{"false", "true"},
		func(v standin.Variant) string { return strconv.FormatBool(v.RestartRecreatesRemoved) }},
}

// cmdFault injects a fault: `lab fault [--dir DIR] NODE|all|vault KIND [ARGS]`.
func cmdFault(ctx context.Context, args []string) error {
	return faultOrHeal(ctx, "fault", args, applyFault, applyVaultFault)
}

// cmdHeal undoes a fault: `lab heal [--dir DIR] NODE|all|vault [KIND]`; without
// KIND it undoes every fault of the target.
func cmdHeal(ctx context.Context, args []string) error {
	return faultOrHeal(ctx, "heal", args, healFault, healVault)
}

type nodeAction func(ctx context.Context, st *labdir.State, n labdir.NodeState, kind string, args []string) error
type vaultAction func(ctx context.Context, l labdir.Layout, kind string) error

func faultOrHeal(ctx context.Context, verb string, args []string, onNode nodeAction, onVault vaultAction) error {
	l, rest, err := parseDir(verb, args, nil)
	if err != nil {
		return err
	}
	if len(rest) < 1 || (verb == "fault" && len(rest) < 2) {
		return fmt.Errorf("usage: lab %s [--dir DIR] NODE|all|vault KIND [ARGS]\n  node kinds: %s\n  vault kinds: stop | seal", verb, nodeFaultKinds)
	}
	kind := ""
	if len(rest) > 1 {
		kind = rest[1]
	}
	if rest[0] == "vault" {
		return onVault(ctx, l, kind)
	}
	st, err := l.LoadState()
	if err != nil {
		return err
	}
	targets := st.Nodes
	if rest[0] != "all" {
		n, err := st.Node(rest[0])
		if err != nil {
			return err
		}
		targets = []labdir.NodeState{*n}
	}
	var extra []string
	if len(rest) > 2 {
		extra = rest[2:]
	}
	var errs []error
	for _, n := range targets {
		if err := onNode(ctx, st, n, kind, extra); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", n.Name, err))
		}
	}
	return errors.Join(errs...)
}

func applyFault(ctx context.Context, _ *labdir.State, n labdir.NodeState, kind string, args []string) error {
	s := node.Spec{Index: n.Index}
	if sf, ok := settingFaults[kind]; ok {
		if len(args) != 1 || !slices.Contains(sf.allowed, args[0]) {
			return fmt.Errorf("%s needs %s", kind, strings.Join(sf.allowed, " or "))
		}
		return node.SetLabSetting(ctx, n.PID, sf.key, args[0])
	}
	if wantsArg, ok := knobFaults[kind]; ok {
		content := ""
		if kind == "fail-start" && len(args) == 1 && args[0] == "vault" {
			// fail only while a Vault block is configured: the node comes
			// back once a rollout restores its original config
			return node.KnobFault(ctx, n.PID, kind, "vault")
		}
		if wantsArg {
			if len(args) != 1 {
				return fmt.Errorf("%s needs SECONDS", kind)
			}
			var err error
			if content, err = node.Seconds(args[0]); err != nil {
				return err
			}
		}
		return node.KnobFault(ctx, n.PID, kind, content)
	}
	switch kind {
	case "cutoff":
		return node.SetLink(ctx, s, false)
	case "cutoff-vault":
		return node.CutoffVault(ctx, s)
	case "split-rule":
		return node.SetLabSetting(ctx, n.PID, "internode_rule", "primary")
	case "vault-block":
		if len(args) != 1 || (args[0] != "hsm.vault" && args[0] != node.VaultBlockDefault) {
			return errors.New("vault-block needs hsm.vault or hsm.hashicorp.vault")
		}
		return node.SetLabSetting(ctx, n.PID, "vault_block", args[0])
	}
	return fmt.Errorf("unknown node fault %q (kinds: %s)", kind, nodeFaultKinds)
}

func healFault(ctx context.Context, st *labdir.State, n labdir.NodeState, kind string, _ []string) error {
	s := node.Spec{Index: n.Index}
	if _, ok := knobFaults[kind]; ok {
		return node.HealKnob(ctx, n.PID, kind)
	}
	heals := map[string]func() error{}
	for name, sf := range settingFaults {
		heals[name] = func() error { return node.SetLabSetting(ctx, n.PID, sf.key, sf.lab(labVariant(st))) }
	}
	for name, h := range map[string]func() error{
		"cutoff":       func() error { return node.SetLink(ctx, s, true) },
		"cutoff-vault": func() error { return node.HealVault(ctx, s) },
		"split-rule":   func() error { return node.SetLabSetting(ctx, n.PID, "internode_rule", "shared") },
		"vault-block":  func() error { return node.SetLabSetting(ctx, n.PID, "vault_block", node.VaultBlockDefault) },
	} {
		heals[name] = h
	}
	if kind != "" {
		h, ok := heals[kind]
		if !ok {
			return fmt.Errorf("unknown node fault %q (kinds: %s)", kind, nodeFaultKinds)
		}
		return h()
	}
	errs := []error{node.HealKnob(ctx, n.PID, "")}
	for _, h := range heals {
		errs = append(errs, h())
	}
	return errors.Join(errs...)
}

// labVariant is the variant the lab was created with; a state written before
// variants existed means the defaults.
func labVariant(st *labdir.State) standin.Variant {
	if st.Variant.HSMNames == "" {
		return standin.Defaults
	}
	return st.Variant
}

func applyVaultFault(ctx context.Context, l labdir.Layout, kind string) error {
	srv, err := vaultlab.Open(vaultConfig(l))
	if err != nil {
		return err
	}
	switch kind {
	case "stop":
		return srv.Stop(ctx)
	case "seal":
		return srv.Seal(ctx)
	}
	return fmt.Errorf("unknown vault fault %q (kinds: stop | seal)", kind)
}

// healVault starts a stopped Vault (same storage, unsealed) or unseals a sealed one.
func healVault(ctx context.Context, l labdir.Layout, kind string) error {
	if kind != "" && kind != "stop" && kind != "seal" {
		return fmt.Errorf("unknown vault fault %q (kinds: stop | seal)", kind)
	}
	srv, err := vaultlab.Open(vaultConfig(l))
	if err != nil {
		return err
	}
	st, err := srv.Status(ctx)
	if err != nil {
		return err
	}
	if st.PID == 0 {
		_, err := vaultlab.Start(ctx, vaultConfig(l))
		return err
	}
	if st.Sealed || !st.Answering {
		return srv.Unseal(ctx)
	}
	return nil
}
