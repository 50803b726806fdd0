package migrate

import "errors"

// OutcomeKind classifies how a run ended. The summary's result and the
// command's exit status are both read from it, so they cannot disagree.
type OutcomeKind string

// Outcome kinds; the strings are the summary's "result" field.
const (
	OutcomeSuccess      OutcomeKind = "success"
	OutcomePreflight    OutcomeKind = "preflight-failed"
	OutcomeHalted       OutcomeKind = "halted"
	OutcomeUnchanged    OutcomeKind = "halted-unchanged"
	OutcomeActionNeeded OutcomeKind = "restore-failed"
	OutcomeInterrupted  OutcomeKind = "interrupted"
	OutcomeFailed       OutcomeKind = "failed"
)

// Outcome is the typed account of a run's end.
type Outcome struct {
	Kind OutcomeKind
	// Node and Phase say where a halted run stopped.
	Node  string
	Phase string
	// State is the state the halting node is in (e.g. "original files").
	State string
	// Journal holds the halting node's last log lines, when read.
	Journal string
}

// OutcomeOf reads a run's error (nil: success).
func OutcomeOf(err error) Outcome {
	var pe *PreflightError
	var he *HaltError
	var re *RestoreError
	switch {
	case err == nil:
		return Outcome{Kind: OutcomeSuccess}
	case errors.As(err, &pe):
		return Outcome{Kind: OutcomePreflight}
	case errors.As(err, &re):
		return Outcome{Kind: OutcomeActionNeeded, Node: re.Node, Journal: re.Journal}
	case errors.As(err, &he):
		o := Outcome{Kind: OutcomeActionNeeded, Node: he.Node, Phase: he.Phase, State: he.State, Journal: he.Journal}
		switch {
		case he.Unchanged:
			o.Kind = OutcomeUnchanged
		case he.Restored:
			o.Kind = OutcomeHalted
		}
		return o
	case errors.Is(err, ErrInterrupted):
		return Outcome{Kind: OutcomeInterrupted}
	}
	return Outcome{Kind: OutcomeFailed}
}
