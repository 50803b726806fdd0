package cmd

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/kmsctl/kmsctl/migrate"
	"github.com/kmsctl/kmsctl/migrate/kmsapi"
	"github.com/kmsctl/kmsctl/render"
)

// buildPlan reads every node and plans the migration; read-only.
func buildPlan(ctx context.Context, sess *hsmSession, d migrate.Desired, parallel int) (*migrate.Plan, error) {
	if err := migrate.CheckNodes(ctx, sess.targets, parallel); err != nil {
		return nil, err
	}
	facts, err := migrate.GatherFacts(ctx, sess.targets, parallel)
	if err != nil {
		return nil, err
	}
	plan, err := migrate.PlanFromFacts(facts, sess.targets, d)
	if err != nil {
		return nil, err
	}
	plan.InventoryDigest = sess.inv.Digest()
	warnings, err := migrate.CheckAdminIdentity(facts, sess.targets, apiIdentity(sess.apiKey), d)
	plan.Warnings = append(plan.Warnings, warnings...)
	if err != nil {
		plan.Warnings = append(plan.Warnings, "an apply would stop at its preflight: "+strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	plan.Purge = migrate.PlanPurge(ctx, facts, sess.targets, d, sess.apiKey != "")
	if err := migrate.CheckHealth(facts, sess.targets, sess.apiKey != ""); err != nil {
		plan.Warnings = append(plan.Warnings, "the cluster is not healthy now, an apply would stop at its preflight: "+strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	return plan, nil
}

// runPlan is --dry-run: read-only checks, the plan on stdout, optionally saved.
func runPlan(ctx context.Context, o *HSMEnableVaultOptions, sess *hsmSession, d migrate.Desired) error {
	plan, err := buildPlan(ctx, sess, d, o.Parallel)
	if err != nil {
		code := ExitPreflightFailed
		if o.DetailedExitCode {
			code = ExitFailed
		}
		return &ExitError{Code: code, Err: err}
	}
	if !o.SkipVaultCheck {
		warnings, err := vaultPreflight(ctx, sess, d.Vault, o.Secrets, o.Parallel)
		plan.Warnings = append(plan.Warnings, warnings...)
		if err != nil {
			plan.Warnings = append(plan.Warnings, "Vault checks failed, an apply would stop at its preflight: "+err.Error())
		}
	}
	if o.PlanOut != "" {
		if err := savePlan(o.PlanOut, plan); err != nil {
			return err
		}
		fmt.Fprintf(o.IO.ErrOut, "plan saved to %s\n", o.PlanOut)
	}
	if o.Output == outputJSON {
		if err := writeJSON(o.IO.Out, plan); err != nil {
			return err
		}
	} else {
		writePlan(o.IO.Out, o.IO.RenderOptions(), plan)
	}
	if o.DetailedExitCode && plan.Pending() {
		return errChangesPending
	}
	return nil
}

// savePlan writes the plan 0600: it holds no secret, but it describes the
// cluster's files.
func savePlan(path string, p *migrate.Plan) error {
	b, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o600); err != nil {
		return fmt.Errorf("save plan: %w", err)
	}
	return nil
}

// loadPlan reads a saved plan ("" means none).
func loadPlan(path string) (*migrate.Plan, error) {
	if path == "" {
		return nil, nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usageError(fmt.Errorf("--plan: %w", err))
	}
	var p migrate.Plan
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, usageError(fmt.Errorf("--plan %s: not a kmsctl plan: %w", path, err))
	}
	if p.Schema != migrate.PlanSchema {
		return nil, usageError(fmt.Errorf("--plan %s: schema %q, want %q", path, p.Schema, migrate.PlanSchema))
	}
	return &p, nil
}

// writePlanSummary is the short form shown before the confirmation prompt.
func writePlanSummary(w io.Writer, ro render.Options, p *migrate.Plan) {
	pt := render.NewPainter(w, ro)
	fmt.Fprintf(w, "%s\n", pt.Paint(render.Strong, "Plan"))
	fmt.Fprintf(w, "  restart order: %s (%s)\n", strings.Join(p.Order, " → "), p.OrderSource)
	for _, n := range p.Nodes {
		fmt.Fprintf(w, "  %-12s stage 1: %-10s stage 2: %s\n", n.Name, changeWord(n.Stage1), changeWord(n.Stage2))
	}
	fmt.Fprintf(w, "  purge: %s\n", purgeWords(pt, p.Purge))
	for _, warn := range p.Warnings {
		fmt.Fprintf(w, "  %s %s\n", pt.Paint(render.Warn, "warning:"), warn)
	}
}

// writePurgeSummary is what `hsm purge-local` shows before its prompt.
func writePurgeSummary(w io.Writer, ro render.Options, pp migrate.PurgePlan) {
	pt := render.NewPainter(w, ro)
	fmt.Fprintf(w, "%s\n  purge: %s\n", pt.Paint(render.Strong, "Plan"), purgeWords(pt, pp))
}

// writePlan prints the whole plan: phases, order, each node's diffs.
func writePlan(w io.Writer, ro render.Options, p *migrate.Plan) {
	pt := render.NewPainter(w, ro)
	h := func(s string) string { return pt.Paint(render.Strong, s) }
	fmt.Fprintf(w, "%s\n", h("Preflight"))
	fmt.Fprintf(w, "  Vault checks from the operator and every node; every node active and ready; locks\n")
	fmt.Fprintf(w, "  restart order: %s (from the %s%s)\n", strings.Join(p.Order, " → "), p.OrderSource, leaderNote(p))
	for _, warn := range p.Warnings {
		fmt.Fprintf(w, "  %s %s\n", pt.Paint(render.Warn, "warning:"), warn)
	}
	fmt.Fprintf(w, "\n%s\n", h("Stage 1: Vault HSM block (one node at a time, restart, health gate)"))
	writeStage(w, pt, p, func(n migrate.NodePlan) migrate.FileChange { return n.Stage1 })
	if p.Settings.KeepLocalHSM {
		fmt.Fprintf(w, "\n%s\n  skipped (--keep-local-hsm)\n", h("Stage 2"))
	} else {
		fmt.Fprintf(w, "\n%s\n", h(fmt.Sprintf("Stage 2: remove %s (strategy %s: %s)", migrate.EnvKey, p.Settings.Stage2, stage2Words(p.Settings.Stage2))))
		writeStage(w, pt, p, func(n migrate.NodePlan) migrate.FileChange { return n.Stage2 })
	}
	fmt.Fprintf(w, "\n%s\n  %s\n", h("Purge: remove the local HSM's sealed root key entries (RemoveHSM, cluster-wide)"), purgeWords(pt, p.Purge))
	state := "changes pending"
	if !p.Pending() {
		state = "nothing to change: every node already runs on Vault"
	}
	fmt.Fprintf(w, "\n%s %s\n", h("Result:"), state)
}

func writeStage(w io.Writer, pt render.Painter, p *migrate.Plan, pick func(migrate.NodePlan) migrate.FileChange) {
	for _, n := range p.Nodes {
		fc := pick(n)
		role := ""
		if n.Role != "" {
			role = " (" + strings.ToLower(n.Role) + ")"
		}
		fmt.Fprintf(w, "  %s%s: %s %s\n", pt.Paint(render.Strong, n.Name), role, fc.Path, changeWord(fc))
		for _, warn := range fc.Warnings {
			fmt.Fprintf(w, "    %s %s\n", pt.Paint(render.Warn, "warning:"), warn)
		}
		if fc.Diff != "" {
			fmt.Fprint(w, indent(pt.Diff(fc.Diff), "    "))
			fmt.Fprintf(w, "    then: restart, health gate\n")
		}
	}
}

// purgeWords says what the purge step will do, flagged as irreversible.
func purgeWords(pt render.Painter, pp migrate.PurgePlan) string {
	switch {
	case pp.Skipped != "":
		return "skipped (" + pp.Skipped + "): the local HSM's sealed entry stays on every node"
	case len(pp.Nodes) == 0 && len(pp.HSMs) > 0:
		return "already done: no node holds an entry of " + strings.Join(pp.HSMs, ", ")
	case len(pp.Nodes) == 0:
		return "the local HSM is named once the run has recorded it; RemoveHSM after the final check"
	}
	return fmt.Sprintf("RemoveHSM %s on %s, then one follower restarted: %s", strings.Join(pp.HSMs, ", "), strings.Join(pp.Nodes, ", "),
		pt.Paint(render.Warn, "IRREVERSIBLE: once the copies of the local key are gone, nothing can bring the entry back; the old key can no longer unseal any volume"))
}

func changeWord(fc migrate.FileChange) string {
	if fc.Changed {
		return "change"
	}
	return "already done (skipped)"
}

func leaderNote(p *migrate.Plan) string {
	if p.Leader == "" {
		return ""
	}
	return "; leader " + p.Leader + " last"
}

func stage2Words(s migrate.Stage2Strategy) string {
	if s == migrate.Stage2Together {
		return "edit every node, restart all at once"
	}
	return "canary first, then one node at a time"
}

func indent(s, prefix string) string {
	lines := strings.SplitAfter(s, "\n")
	var b strings.Builder
	for _, l := range lines {
		if l != "" {
			b.WriteString(prefix + l)
		}
	}
	return b.String()
}

// apiIdentity is the identity of the operator's API key ("" without one or
// when it does not parse: the admin check then says how to compute it).
func apiIdentity(apiKey string) string {
	if apiKey == "" {
		return ""
	}
	id, err := kmsapi.APIKeyIdentity(apiKey)
	if err != nil {
		return ""
	}
	return id
}
