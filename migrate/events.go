package migrate

import (
	"sync"
	"time"
)

// EventSchema versions the JSON lines a rollout emits.
const EventSchema = "kmsctl.event/v1"

// Event is one thing that happened in a run. The same events feed the live
// terminal view, the `-o json` stream and the run log, so none may carry a
// secret: errors and messages are built from names, paths and digests only.
type Event struct {
	Schema   string    `json:"schema"`
	Time     time.Time `json:"time"`
	Run      string    `json:"run"`
	Type     string    `json:"type"` // run, phase, step, summary
	Phase    string    `json:"phase,omitempty"`
	Node     string    `json:"node,omitempty"`
	Step     string    `json:"step,omitempty"`
	Result   string    `json:"result,omitempty"` // start, ok, fail, skip, warn, wait
	Duration float64   `json:"duration_s,omitempty"`
	Message  string    `json:"message,omitempty"`
	Error    string    `json:"error,omitempty"`
	// Summary is set on the final event only.
	Summary *Summary `json:"summary,omitempty"`
}

// Phases of a rollout, in order.
const (
	PhasePreflight = "preflight"
	PhaseStage1    = "stage1"
	PhaseBetween   = "between-stages"
	PhaseStage2    = "stage2"
	PhaseVerify    = "verify"
	PhaseCleanup   = "cleanup"
	PhaseRollback  = "rollback"
)

// Event results.
const (
	ResultStart = "start"
	ResultOK    = "ok"
	ResultFail  = "fail"
	ResultSkip  = "skip"
	ResultWarn  = "warn"
	ResultWait  = "wait"
)

// EventSink receives events; implementations must be safe for concurrent use.
type EventSink interface {
	Emit(Event)
}

// SinkFunc adapts a function to EventSink.
type SinkFunc func(Event)

// Emit calls f.
func (f SinkFunc) Emit(e Event) { f(e) }

// Recorder keeps events in memory; tests and summaries read them back.
type Recorder struct {
	mu     sync.Mutex
	events []Event
}

// Emit stores e.
func (r *Recorder) Emit(e Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, e)
}

// Events returns a copy of everything recorded.
func (r *Recorder) Events() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Event(nil), r.events...)
}

// Tee sends every event to all sinks.
func Tee(sinks ...EventSink) EventSink {
	return SinkFunc(func(e Event) {
		for _, s := range sinks {
			if s != nil {
				s.Emit(e)
			}
		}
	})
}
