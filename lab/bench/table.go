package main

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// row is one line of the result table: one tool in one case.
type row struct {
	Case, Tool string
	Nodes      int
	Sum        summary
	Ratio      float64 // kmsctl median / Ansible median; kmsctl rows only
	Migrate    bool
	Settle     time.Duration // the settle period after each restart (migrate)
}

// printTable writes the rows as a Markdown table (readable in a terminal,
// pasted as is into docs/performance.md).
func printTable(w io.Writer, rows []row) {
	fmt.Fprintln(w, "| case | nodes | tool | runs | median | min..max | kmsctl/ansible | floor | settle waits | overhead | overhead/node | overhead/floor | peak RSS | failed reads | longest read gap | writes refused | refused/floor | lost |")
	fmt.Fprintln(w, "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		fmt.Fprintf(w, "| %s | %d | %s | %s | %s | %s..%s | %s | %s | %s | %s | %s | %s | %s | %s |\n",
			r.Case, r.Nodes, r.Tool, runsCell(r.Sum), secs(r.Sum.Median), secs(r.Sum.Min), secs(r.Sum.Max),
			ratioCell(r), floorCell(r, r.Sum.Floor), settleCell(r), floorCell(r, r.Sum.Overhead),
			perNodeCell(r), pctCell(r), rssCell(r.Sum), loadCells(r.Sum.Load))
	}
}

// loadCells are the load's columns: failed reads (summed over the runs),
// the worst read gap, the median time writes were refused, its median
// ratio to the floor (the sum of the nodes' own restart windows: writes
// need every node up, so they cannot be served for less), keys or
// ciphertexts lost (summed).
func loadCells(l *loadSummary) string {
	if l == nil {
		return "- | - | - | - | -"
	}
	return fmt.Sprintf("%d | %s | %s | %.2f | %d", l.FailedReads, secs(l.MaxReadGap), secs(l.WriteDown), l.WriteDownPerFloor, l.Lost)
}

func secs(d time.Duration) string {
	if d < 10*time.Second {
		return fmt.Sprintf("%.2fs", d.Seconds())
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}

func runsCell(s summary) string {
	if s.Failed > 0 {
		return fmt.Sprintf("%d (%d failed)", s.Runs, s.Failed)
	}
	return fmt.Sprint(s.Runs)
}

func ratioCell(r row) string {
	if r.Ratio == 0 {
		return ""
	}
	return fmt.Sprintf("%.3f (%.1fx faster)", r.Ratio, 1/r.Ratio)
}

func floorCell(r row, d time.Duration) string {
	if !r.Migrate {
		return "-"
	}
	return secs(d)
}

// settleCell is the settle waits: restarts seen x settle period.
func settleCell(r row) string {
	if !r.Migrate {
		return "-"
	}
	return fmt.Sprintf("%d x %s", r.Sum.Steps, secs(r.Settle))
}

func perNodeCell(r row) string {
	if !r.Migrate || r.Nodes == 0 {
		return "-"
	}
	return fmt.Sprintf("%.0fms", float64(r.Sum.Overhead.Milliseconds())/float64(r.Nodes))
}

func pctCell(r row) string {
	if !r.Migrate || r.Sum.Floor <= 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f%%", 100*r.Sum.Overhead.Seconds()/r.Sum.Floor.Seconds())
}

func rssCell(s summary) string {
	if s.MaxRSSKB == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f MB (max %.1f)", float64(s.MedRSSKB)/1024, float64(s.MaxRSSKB)/1024)
}

// title is printed above the table.
func title(w io.Writer, host string, cases []string, runs int) {
	fmt.Fprintf(w, "\nkmsctl vs Ansible on %s: cases %s, %d runs each, tools alternating\n\n", host, strings.Join(cases, ", "), runs)
}
