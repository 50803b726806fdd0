package cmd

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/kmsctl/kmsctl/migrate"
	"github.com/kmsctl/kmsctl/render"
)

// TestProgressLines pins the terminal view of each kind of event: time,
// phase, node, step, result, duration, message and error, plain on a
// stream without colour.
func TestProgressLines(t *testing.T) {
	at := time.Date(2026, 11, 27, 8, 0, 5, 0, time.UTC)
	clock := at.Local().Format("15:04:05")
	tests := []struct {
		e    migrate.Event
		want string
	}{
		{migrate.Event{Time: at, Type: "run", Result: migrate.ResultStart, Message: "3 nodes"},
			clock + "                start 3 nodes"},
		{migrate.Event{Time: at, Phase: migrate.PhaseStage1, Node: "kms-1", Step: "gate", Result: migrate.ResultOK, Duration: 5},
			clock + " stage1         kms-1      gate     ok (5.0s)"},
		{migrate.Event{Time: at, Phase: migrate.PhaseStage1, Node: "kms-3", Step: "restore", Result: migrate.ResultFail, Message: "original files", Error: "node kms-3: health gate: unit"},
			clock + " stage1         kms-3      restore  fail original files node kms-3: health gate: unit"},
		{migrate.Event{Time: at, Phase: migrate.PhaseVerify, Result: migrate.ResultWarn, Message: "admin.identity is another identity"},
			clock + " verify         warn admin.identity is another identity"},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		p := &progress{w: &out, pt: render.NewPainter(&out, render.Options{}), live: newLiveLine(&out, false, 0, time.Second)}
		p.Emit(tt.e)
		if got := strings.TrimSuffix(out.String(), "\n"); got != tt.want {
			t.Errorf("Emit(%+v):\n got %q\nwant %q", tt.e, got, tt.want)
		}
	}
}

// TestRunSummaryText pins the summary block: result, per-node outcomes,
// the downtime of `--stage2 together`, kept backups and warnings.
func TestRunSummaryText(t *testing.T) {
	var out bytes.Buffer
	p := &progress{w: &out, pt: render.NewPainter(&out, render.Options{}), live: newLiveLine(&out, false, 0, time.Second)}
	p.Emit(migrate.Event{Type: "summary", Summary: &migrate.Summary{
		Run: "r1", Result: "halted", Duration: 12.5,
		Nodes:       []migrate.NodeSummary{{Name: "kms-1", Stage1: "changed", Stage2: "changed", Time: 5}, {Name: "kms-3", Stage1: "restored", Stage2: "-", Time: 1.25}},
		Downtime:    2.5,
		BackupsKept: []string{"kms-1:/var/lib/kmsctl/backups/r1"},
		Warnings:    []string{"kms-2: admin.identity is another identity"},
	}})
	want := `
Summary run r1: halted in 12.5s
  kms-1        stage 1: changed        stage 2: changed        5.0s
  kms-3        stage 1: restored       stage 2: -              1.2s
  stage 2 together: the cluster was unavailable for 2.5s
  backups kept: kms-1:/var/lib/kmsctl/backups/r1
  warning: kms-2: admin.identity is another identity
`
	if out.String() != want {
		t.Errorf("summary:\n%s\nwant:\n%s", out.String(), want)
	}
}

// TestEventSinkOutputs: -o json streams JSON lines on stdout, the table
// output writes progress on stderr and nothing on stdout; both write the
// run log (0600 in a 0700 directory), and a run log that cannot be opened
// is a warning, not a failure.
func TestEventSinkOutputs(t *testing.T) {
	e := migrate.Event{Schema: migrate.EventSchema, Time: time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC), Run: "r1", Type: "step", Phase: "stage1", Node: "kms-1", Step: "write", Result: migrate.ResultOK}
	for _, output := range []string{outputJSON, outputTable} {
		t.Run(output, func(t *testing.T) {
			io, _, out, errOut := NewTestIOStreams()
			dir := t.TempDir()
			sink, closeLog := newEventSink(io, output, dir, "r1")
			sink.Emit(e)
			closeLog()
			log := readFile(t, filepath.Join(dir, "runs", "r1.jsonl"))
			if evs := events(t, log); len(evs) != 1 || evs[0] != e {
				t.Errorf("run log %q", log)
			}
			if fi, err := os.Stat(filepath.Join(dir, "runs", "r1.jsonl")); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("run log mode %v, %v", fi.Mode(), err)
			}
			if fi, err := os.Stat(filepath.Join(dir, "runs")); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("runs dir mode %v, %v", fi.Mode(), err)
			}
			switch output {
			case outputJSON:
				if out.String() != log || strings.Contains(errOut.String(), "write") {
					t.Errorf("json: stdout %q, stderr %q", out, errOut)
				}
			default:
				if out.Len() != 0 || !strings.Contains(errOut.String(), "stage1         kms-1      write    ok") {
					t.Errorf("table: stdout %q, stderr %q", out, errOut)
				}
			}
		})
	}
	io, _, out, errOut := NewTestIOStreams()
	notDir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notDir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	sink, closeLog := newEventSink(io, outputJSON, notDir, "r1")
	sink.Emit(e)
	closeLog()
	if !strings.Contains(errOut.String(), "warning: no run log:") || events(t, out.String())[0] != e {
		t.Errorf("unwritable state dir: stdout %q, stderr %q", out, errOut)
	}
}

// TestStateDir: run logs go under XDG_STATE_HOME, else HOME, else the
// temporary directory, read through the Factory's Getenv.
func TestStateDir(t *testing.T) {
	tests := []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"XDG_STATE_HOME": "/x", "HOME": "/h"}, "/x/kmsctl"},
		{map[string]string{"HOME": "/h"}, "/h/.local/state/kmsctl"},
		{map[string]string{"TMPDIR": "/t"}, "/t/kmsctl-state"},
		{nil, "/tmp/kmsctl-state"},
	}
	for _, tt := range tests {
		if got := stateDir(func(k string) string { return tt.env[k] }); got != tt.want {
			t.Errorf("stateDir(%v) = %s, want %s", tt.env, got, tt.want)
		}
	}
}
