package cmd

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kmsctl/kmsctl/render"
)

var statusHeaders = []string{"NODE", "SSH", "SUDO", "UNIT", "UP FOR", "RESTARTS", "LOCAL KEY", "VAULT BLOCK", "VERSION", "LIVE", "READY", "ROLE", "HSM ENTRIES", "LOCAL HSM"}

// statusDrop are the columns a narrow terminal loses first: the details
// -o json and --wide still show. NODE, SSH, UNIT, READY, ROLE and LOCAL
// KEY stay.
var statusDrop = []int{colVersion, colLive, colUpFor, colSudo, colRestarts, colVaultBlock, colHSM, colLocalHSM}

// Column indexes of statusHeaders.
const (
	colNode = iota
	colSSH
	colSudo
	colUnit
	colUpFor
	colRestarts
	colLocalKey
	colVaultBlock
	colVersion
	colLive
	colReady
	colRole
	colHSM
	colLocalHSM
)

// writeStatus prints the report as JSON or as a table plus a summary.
func writeStatus(s *IOStreams, output string, rep *StatusReport, now time.Time) error {
	if output == outputJSON {
		return writeJSON(s.Out, rep)
	}
	hidden := 0
	t := render.Table{Headers: statusHeaders, Tone: statusTone(rep), Drop: statusDrop, Hidden: &hidden}
	for _, n := range rep.Nodes {
		t.Rows = append(t.Rows, statusRow(n, now))
	}
	if err := t.Write(s.Out, s.RenderOptions()); err != nil {
		return fmt.Errorf("write status: %w", err)
	}
	if hidden > 0 {
		fmt.Fprintf(s.Out, "(%d columns hidden to fit the terminal: --wide shows all, -o json has everything)\n", hidden)
	}
	return writeStatusSummary(s.Out, render.NewPainter(s.Out, s.RenderOptions()), rep)
}

func statusRow(n NodeReport, now time.Time) []string {
	row := make([]string, len(statusHeaders))
	row[colNode] = n.Name
	if !n.SSH.Reachable {
		row[colSSH] = orStr(n.SSH.Kind, "unreachable")
		return row
	}
	row[colSSH] = "ok"
	if n.Sudo != nil {
		row[colSudo] = n.Sudo.Mode
	}
	if u := n.Unit; u != nil && u.Error == "" {
		row[colUnit] = u.ActiveState + " (" + u.SubState + ")"
		if u.Since != nil && u.ActiveState == "active" {
			row[colUpFor] = humanDuration(now.Sub(*u.Since))
		}
		row[colRestarts] = strconv.Itoa(u.Restarts)
	} else {
		row[colUnit] = "unknown"
	}
	if f := n.Files; f != nil {
		row[colLocalKey] = localKeyCell(f)
		row[colVaultBlock] = strings.Join(f.VaultBlocks, ",")
	}
	if a := n.API; a != nil {
		row[colVersion], row[colLive], row[colReady] = a.Version, yesNo(a.Live), yesNo(a.Ready)
	}
	if m := n.Member; m != nil {
		row[colRole] = strings.ToLower(m.Role)
		if m.Leader {
			row[colRole] = "leader *"
		}
		row[colHSM] = hsmCell(m)
	}
	row[colLocalHSM] = localCell(n.LocalHSM)
	return row
}

func localKeyCell(f *FilesReport) string {
	switch {
	case f.EnvError != "":
		return "unreadable"
	case f.EnvMissing:
		return "no (no env file)"
	}
	return yesNo(f.LocalKey)
}

// statusTone colours the health cells: good in green, bad in red, the
// leader in bold.
func statusTone(rep *StatusReport) func(row, col int) render.Tone {
	return func(row, col int) render.Tone {
		n := rep.Nodes[row]
		switch col {
		case colNode:
			return toneIf(n.Healthy, render.Strong, render.Bad)
		case colSSH:
			return toneIf(n.SSH.Reachable, render.Good, render.Bad)
		case colSudo:
			return toneIf(n.Sudo == nil || n.Sudo.Mode != sudoFail, render.Plain, render.Bad)
		case colUnit:
			return toneIf(n.Unit != nil && n.Unit.ActiveState == "active", render.Good, render.Bad)
		case colLive:
			return toneIf(n.API != nil && n.API.Live, render.Good, render.Bad)
		case colReady:
			return toneIf(n.API != nil && n.API.Ready, render.Good, render.Bad)
		case colRole:
			return toneIf(n.Member != nil && n.Member.Leader, render.Strong, render.Plain)
		}
		return render.Plain
	}
}

// writeStatusSummary prints the verdict line and every problem, node by node.
func writeStatusSummary(w io.Writer, p render.Painter, rep *StatusReport) error {
	healthy := 0
	for _, n := range rep.Nodes {
		if n.Healthy {
			healthy++
		}
	}
	line := fmt.Sprintf("%d/%d nodes healthy", healthy, len(rep.Nodes))
	if cv := rep.Cluster; cv != nil {
		line += fmt.Sprintf("; leader %s; %d up, %d down (view of %s)", orStr(cv.Leader, "none"), len(cv.Up), len(cv.Down), cv.Source)
	}
	fmt.Fprintln(w, "\n"+p.Paint(toneIf(rep.Healthy, render.Good, render.Bad), line))
	for _, n := range rep.Nodes {
		for _, pr := range n.Problems {
			fmt.Fprintf(w, "  %s: %s\n", n.Name, pr)
		}
	}
	for _, pr := range rep.Problems {
		fmt.Fprintf(w, "  cluster: %s\n", pr)
	}
	for _, wr := range rep.Warnings {
		fmt.Fprintf(w, "  %s %s\n", p.Paint(render.Warn, "warning:"), wr)
	}
	return nil
}

func toneIf(ok bool, yes, no render.Tone) render.Tone {
	if ok {
		return yes
	}
	return no
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

// humanDuration prints a duration the way an operator reads uptime: 45s,
// 12m, 3h05m, 2d04h.
func humanDuration(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 24*time.Hour:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd%02dh", int(d.Hours())/24, int(d.Hours())%24)
}

// hsmCell lists the node's sealed entries with the product's names, each
// marked local or external as the rule by difference told them apart
// ("?" when it could not).
func hsmCell(m *MemberReport) string {
	parts := make([]string, 0, len(m.HSM))
	for _, h := range m.HSM {
		kind := "?"
		switch {
		case slices.Contains(m.LocalHSMs, h):
			kind = "local"
		case slices.Contains(m.ExternalHSMs, h):
			kind = "external"
		}
		parts = append(parts, h+" ("+kind+")")
	}
	return strings.Join(parts, ",")
}
