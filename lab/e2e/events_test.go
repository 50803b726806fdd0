package e2e

import (
	"bufio"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// event is the part of kmsctl's JSON event stream the tests read.
type event struct {
	Type    string `json:"type"`
	Run     string `json:"run"`
	Phase   string `json:"phase"`
	Node    string `json:"node"`
	Step    string `json:"step"`
	Result  string `json:"result"`
	Message string `json:"message"`
	Error   string `json:"error"`
	Summary *struct {
		Result   string  `json:"result"`
		Downtime float64 `json:"downtime_s"`
	} `json:"summary"`
}

func parseEvents(t *testing.T, out string) []event {
	t.Helper()
	var evs []event
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		if line == "" {
			continue
		}
		var e event
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("not a JSON event line: %q: %v", line, err)
		}
		evs = append(evs, e)
	}
	return evs
}

// nodesOf lists the nodes of events matching phase/step/result, in order.
func nodesOf(evs []event, phase, step, res string) []string {
	var out []string
	for _, e := range evs {
		if e.Phase == phase && e.Step == step && e.Result == res {
			out = append(out, e.Node)
		}
	}
	return out
}

// background is a kmsctl run whose events a test watches while it runs.
type background struct {
	cmd    *exec.Cmd
	events chan event
	stderr *strings.Builder
	all    []event
}

// start runs kmsctl with -o json in the background.
func (l *lab) start(t *testing.T, args ...string) *background {
	t.Helper()
	cmd := exec.Command(kmsctlBin, append(args, "-o", "json")...)
	cmd.Env = append(append(os.Environ(), l.env...), "NO_COLOR=1", "XDG_STATE_HOME="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	b := &background{cmd: cmd, events: make(chan event, 1000), stderr: &strings.Builder{}}
	cmd.Stderr = b.stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go b.read(out)
	return b
}

func (b *background) read(r io.Reader) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) == nil {
			b.events <- e
		}
	}
	close(b.events)
}

// waitFor returns the first event matching ok, failing after limit.
func (b *background) waitFor(t *testing.T, limit time.Duration, ok func(event) bool) event {
	t.Helper()
	timer := time.After(limit)
	for {
		select {
		case e, open := <-b.events:
			if !open {
				t.Fatalf("run ended before the awaited event; stderr:\n%s", b.stderr)
			}
			b.all = append(b.all, e)
			if ok(e) {
				return e
			}
		case <-timer:
			t.Fatalf("no awaited event within %s", limit)
		}
	}
}

// wait drains the events and returns the exit code.
func (b *background) wait(t *testing.T) int {
	t.Helper()
	for e := range b.events {
		b.all = append(b.all, e)
	}
	err := b.cmd.Wait()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return 0
}
