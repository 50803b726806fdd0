package cmd

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/kmsctl/kmsctl/migrate"
	"github.com/kmsctl/kmsctl/render"
)

// eventSink sends every event to the live view (stderr, or JSON lines on
// stdout with -o json) and to the run log. Events carry no secrets by
// construction (see migrate.Event), so the log is safe to keep.
func (o *HSMEnableVaultOptions) eventSink(run string) (migrate.EventSink, func()) {
	return newEventSink(o.IO, o.Output, o.StateDir, run)
}

func newEventSink(io_ *IOStreams, output, dir, run string) (migrate.EventSink, func()) {
	var live migrate.EventSink
	stopLive := func() {}
	if output == outputJSON {
		live = jsonLines(io_.Out)
	} else {
		p := &progress{w: io_.ErrOut, pt: render.NewPainter(io_.ErrOut, io_.ErrRenderOptions()), live: liveFor(io_)}
		live, stopLive = p, p.live.close
	}
	logf, err := openRunLog(dir, run)
	if err != nil {
		fmt.Fprintf(io_.ErrOut, "warning: no run log: %v\n", err)
		return live, stopLive
	}
	fmt.Fprintf(io_.ErrOut, "run %s (log: %s)\n", run, logf.Name())
	return migrate.Tee(live, jsonLines(logf)), func() { stopLive(); _ = logf.Close() }
}

func openRunLog(dir, run string) (*os.File, error) {
	runs := filepath.Join(dir, "runs")
	if err := os.MkdirAll(runs, 0o700); err != nil {
		return nil, err
	}
	return os.OpenFile(filepath.Join(runs, run+".jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
}

// jsonLines writes one JSON document per event.
func jsonLines(w io.Writer) migrate.EventSink {
	var mu sync.Mutex
	enc := json.NewEncoder(w)
	return migrate.SinkFunc(func(e migrate.Event) {
		mu.Lock()
		defer mu.Unlock()
		_ = enc.Encode(e)
	})
}

// progress is the terminal view: one line per event, styled by result, and
// on a terminal a ticking line while nothing happens for over a second
// (a 2-minute gate shows its node, step and the last message as it waits).
type progress struct {
	mu   sync.Mutex
	w    io.Writer
	pt   render.Painter
	live *liveLine
}

func (p *progress) Emit(e migrate.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if e.Type == "summary" && e.Summary != nil {
		p.live.wait("")
		writeRunSummary(p.w, p.pt, e.Summary)
		return
	}
	tone := map[string]render.Tone{migrate.ResultOK: render.Good, migrate.ResultFail: render.Bad, migrate.ResultWarn: render.Warn, migrate.ResultSkip: render.Faint, migrate.ResultWait: render.Faint}[e.Result]
	parts := []string{e.Time.Local().Format("15:04:05"), fmt.Sprintf("%-14s", e.Phase)}
	if e.Node != "" {
		parts = append(parts, p.pt.Paint(render.Strong, fmt.Sprintf("%-10s", e.Node)))
	}
	if e.Step != "" {
		parts = append(parts, fmt.Sprintf("%-8s", e.Step))
	}
	parts = append(parts, p.pt.Paint(tone, e.Result))
	if e.Duration > 0 {
		parts = append(parts, fmt.Sprintf("(%.1fs)", e.Duration))
	}
	if e.Message != "" {
		parts = append(parts, e.Message)
	}
	if e.Error != "" {
		parts = append(parts, p.pt.Paint(render.Bad, e.Error))
	}
	p.live.printf("%s\n", strings.Join(parts, " "))
	p.live.wait(waitLabel(e))
}

// waitLabel says what the run is doing after event e, for the live line.
func waitLabel(e migrate.Event) string {
	label := strings.TrimSpace(e.Phase + " " + e.Step + " " + e.Result)
	if e.Node != "" {
		label = e.Node + ": " + label
	}
	if e.Message != "" {
		label += ", last: " + e.Message
	}
	return label
}

func writeRunSummary(w io.Writer, pt render.Painter, s *migrate.Summary) {
	tone := render.Good
	if s.Result != "success" {
		tone = render.Bad
	}
	fmt.Fprintf(w, "\n%s run %s: %s in %.1fs\n", pt.Paint(render.Strong, "Summary"), s.Run, pt.Paint(tone, s.Result), s.Duration)
	for _, n := range s.Nodes {
		fmt.Fprintf(w, "  %-12s stage 1: %-14s stage 2: %-14s %.1fs\n", n.Name, n.Stage1, n.Stage2, n.Time)
	}
	if s.Downtime > 0 {
		fmt.Fprintf(w, "  stage 2 together: the cluster was unavailable for %.1fs\n", s.Downtime)
	}
	for _, b := range s.BackupsKept {
		fmt.Fprintf(w, "  backups kept: %s\n", b)
	}
	if s.LocalEntry != "" {
		fmt.Fprintf(w, "  local HSM entry: %s\n", s.LocalEntry)
	}
	if s.KeyVersion > 0 {
		fmt.Fprintf(w, "  root key re-sealed with transit key version %d\n", s.KeyVersion)
	}
	if s.MinDecryptionVersion > 0 {
		fmt.Fprintf(w, "  versions below %d retired (min_decryption_version), every node proven to unseal\n", s.MinDecryptionVersion)
	}
	for _, warn := range s.Warnings {
		fmt.Fprintf(w, "  %s %s\n", pt.Paint(render.Warn, "warning:"), warn)
	}
}
