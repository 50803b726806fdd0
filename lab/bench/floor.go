package main

import (
	"strings"
	"time"
)

// eventKind is what a journal line says about the key manager's restart.
type eventKind int

const (
	evOther    eventKind = iota
	evStopping           // systemd: "Stopping minkms.service ..."
	evStarted            // systemd: "Started minkms.service ..."
	evReady              // stand-in: in a quorum with a leader
)

// journalEvent is one classified line of `journalctl -o short-iso-precise`.
type journalEvent struct {
	At   time.Time
	Kind eventKind
}

// readyMarks are the stand-in's log lines (lab/internal/standin/cluster*.go)
// that mark the moment /v1/health/ready turns 200 after a start: the node is
// unsealed (it serves only then) and knows a leader.
var readyMarks = []string{"cluster: following leader", "cluster: elected leader"}

// isoLayouts are short-iso-precise's timestamp forms across systemd versions.
var isoLayouts = []string{"2006-01-02T15:04:05.999999-07:00", "2006-01-02T15:04:05.999999-0700"}

// parseJournal classifies the lines of a minkms journal; lines it cannot
// date ("-- Boot ..." and the like) are skipped.
func parseJournal(text string) []journalEvent {
	var out []journalEvent
	for _, line := range strings.Split(text, "\n") {
		stamp, rest, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		at, ok := parseStamp(stamp)
		if !ok {
			continue
		}
		out = append(out, journalEvent{At: at, Kind: classify(rest)})
	}
	return out
}

func parseStamp(s string) (time.Time, bool) {
	for _, layout := range isoLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// classify reads "HOST IDENT[PID]: MESSAGE".
func classify(rest string) eventKind {
	_, msg, ok := strings.Cut(rest, ": ")
	if !ok {
		return evOther
	}
	switch {
	case strings.HasPrefix(msg, "Stopping "):
		return evStopping
	case strings.HasPrefix(msg, "Started "):
		return evStarted
	}
	for _, m := range readyMarks {
		if strings.Contains(msg, m) {
			return evReady
		}
	}
	return evOther
}

// restartSteps returns, for every restart of one node that began inside
// [from, to], the time from "Stopping" to the first ready mark after
// "Started". A restart that never became ready inside the window counts up to
// `to` (the node was not ready, so the nodes needed at least that long).
func restartSteps(evs []journalEvent, from, to time.Time) []time.Duration {
	var steps []time.Duration
	var stopAt time.Time
	started := false
	for _, e := range evs {
		if e.At.Before(from) || e.At.After(to) {
			continue
		}
		switch {
		case e.Kind == evStopping && stopAt.IsZero():
			stopAt, started = e.At, false
		case e.Kind == evStarted && !stopAt.IsZero():
			started = true
		case e.Kind == evReady && started:
			steps = append(steps, e.At.Sub(stopAt))
			stopAt, started = time.Time{}, false
		}
	}
	if !stopAt.IsZero() {
		steps = append(steps, to.Sub(stopAt))
	}
	return steps
}

// floorOf sums the restart steps of every node: both tools restart one
// node at a time, so the steps are sequential.
func floorOf(journals map[string]string, from, to time.Time) (floor time.Duration, steps int) {
	for _, text := range journals {
		for _, d := range restartSteps(parseJournal(text), from, to) {
			floor += d
			steps++
		}
	}
	return floor, steps
}
