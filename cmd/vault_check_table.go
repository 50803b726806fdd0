package cmd

import (
	"fmt"
	"io"
	"strings"

	"github.com/kmsctl/kmsctl/migrate/vaultcheck"
	"github.com/kmsctl/kmsctl/render"
)

var vaultCheckHeaders = []string{"STATUS", "CHECK", "NODE", "MESSAGE"}

// writeVaultCheck prints the report as JSON (the vaultcheck.Report with its
// schema) or as a table, a verdict line and the fixes below it.
func writeVaultCheck(s *IOStreams, output string, rep *vaultcheck.Report) error {
	if output == outputJSON {
		return writeJSON(s.Out, rep)
	}
	t := render.Table{Headers: vaultCheckHeaders, Tone: vaultCheckTone(rep)}
	for _, c := range rep.Checks {
		t.Rows = append(t.Rows, []string{c.Status.String(), c.Title, c.Node, c.Message})
	}
	if err := t.Write(s.Out, s.RenderOptions()); err != nil {
		return fmt.Errorf("write vault check: %w", err)
	}
	p := render.NewPainter(s.Out, s.RenderOptions())
	fmt.Fprintln(s.Out, "\n"+p.Paint(toneIf(rep.Passed(), render.Good, render.Bad), vaultCheckVerdict(rep)))
	return writeVaultFixes(s.Out, rep)
}

// vaultCheckTone colours the status column.
func vaultCheckTone(rep *vaultcheck.Report) func(row, col int) render.Tone {
	return func(row, col int) render.Tone {
		if col != 0 {
			return render.Plain
		}
		switch rep.Checks[row].Status {
		case vaultcheck.Pass:
			return render.Good
		case vaultcheck.Fail:
			return render.Bad
		case vaultcheck.Warn:
			return render.Warn
		}
		return render.Faint
	}
}

// vaultCheckVerdict is the one-line result, e.g. "Vault check failed:
// 9 passed, 2 failed, 1 skipped, 0 warnings".
func vaultCheckVerdict(rep *vaultcheck.Report) string {
	verdict := "passed"
	if !rep.Passed() {
		verdict = "failed"
	}
	warnings := "warnings"
	if rep.Count(vaultcheck.Warn) == 1 {
		warnings = "warning"
	}
	return fmt.Sprintf("Vault check %s: %d passed, %d failed, %d skipped, %d %s", verdict,
		rep.Count(vaultcheck.Pass), rep.Count(vaultcheck.Fail), rep.Count(vaultcheck.Skip), rep.Count(vaultcheck.Warn), warnings)
}

// writeVaultFixes prints the Fix of every failed or warned check under the
// checks it fixes; checks sharing a fix (the capability check and the call
// that was refused, or several nodes cut off alike) share one stanza.
func writeVaultFixes(w io.Writer, rep *vaultcheck.Report) error {
	var order []string
	who := map[string][]string{}
	for _, c := range rep.Checks {
		if c.Fix == "" || (c.Status != vaultcheck.Fail && c.Status != vaultcheck.Warn) {
			continue
		}
		if _, seen := who[c.Fix]; !seen {
			order = append(order, c.Fix)
		}
		who[c.Fix] = append(who[c.Fix], checkName(c))
	}
	if len(order) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("\nHow to fix:\n")
	for _, fix := range order {
		fmt.Fprintf(&b, "  %s:\n", strings.Join(who[fix], ", "))
		for line := range strings.Lines(fix) {
			b.WriteString("    " + line)
		}
		if !strings.HasSuffix(fix, "\n") {
			b.WriteString("\n")
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// checkName is the check's ID, with the node for checks run from a node.
func checkName(c vaultcheck.Check) string {
	if c.Node != "" {
		return c.ID + " (" + c.Node + ")"
	}
	return c.ID
}
