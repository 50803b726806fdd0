package load

import (
	"slices"
	"time"
)

// Kind is one kind of request the load sends.
type Kind string

// The kinds of request: reads (served by any ready node) and writes (cluster
// writes, refused unless every node is up).
const (
	KindDecrypt  Kind = "decrypt"
	KindGenerate Kind = "generate"
	KindCreate   Kind = "create"
	// KindProbe re-creates a key that exists: the write path (every node up,
	// a leader) answers "key already exists", a refused write fails. It
	// samples write availability far more often than the creates without
	// adding keys.
	KindProbe Kind = "write-probe"
)

// IsRead says whether a kind is a read (failover on a 5xx is allowed).
func (k Kind) IsRead() bool { return k == KindDecrypt || k == KindGenerate }

// Outcome is one request as the load saw it, after failover.
type Outcome struct {
	Kind       Kind
	Start, End time.Time
	// OK: the request did what was asked (for a probe: the write path answered).
	OK bool
	// Err is the last error's text without the node's address ("" when OK).
	Err string
	// Tries is how many nodes were asked.
	Tries int
}

// at is when an outcome is taken to have happened: the middle of the request.
func (o Outcome) at() time.Time { return o.Start.Add(o.End.Sub(o.Start) / 2) }

// Span is an interval of the run.
type Span struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// Seconds is the span's length.
func (s Span) Seconds() float64 { return s.To.Sub(s.From).Seconds() }

// LongestReadGap is the longest interval inside [from, to] in which no read
// succeeded, measured between the ends of successful reads (and the run's
// bounds): what a client that keeps asking would see as an outage.
func LongestReadGap(outs []Outcome, from, to time.Time) Span {
	marks := []time.Time{from}
	for _, o := range outs {
		if o.Kind.IsRead() && o.OK && !o.End.Before(from) && !o.End.After(to) {
			marks = append(marks, o.End)
		}
	}
	marks = append(marks, to)
	slices.SortFunc(marks, func(a, b time.Time) int { return a.Compare(b) })
	var best Span
	for i := 1; i < len(marks); i++ {
		if d := marks[i].Sub(marks[i-1]); d > best.To.Sub(best.From) {
			best = Span{From: marks[i-1], To: marks[i]}
		}
	}
	return best
}

// WriteOutages are the intervals in which writes were refused: from the
// first failed write (create or probe) after a working one to the next
// write that worked, each write placed at the middle of its request; an
// outage still open at the end lasts until `to`. Sampling every probe
// interval, each end is exact to about that interval.
func WriteOutages(outs []Outcome, to time.Time) []Span {
	var ws []Outcome
	for _, o := range outs {
		if !o.Kind.IsRead() {
			ws = append(ws, o)
		}
	}
	slices.SortFunc(ws, func(a, b Outcome) int { return a.at().Compare(b.at()) })
	var spans []Span
	var open *Span
	for _, o := range ws {
		switch {
		case !o.OK && open == nil:
			open = &Span{From: o.at()}
		case o.OK && open != nil:
			open.To = o.at()
			spans = append(spans, *open)
			open = nil
		}
	}
	if open != nil && to.After(open.From) {
		open.To = to
		spans = append(spans, *open)
	}
	return spans
}

// Total sums the spans' lengths.
func Total(spans []Span) time.Duration {
	var d time.Duration
	for _, s := range spans {
		d += s.To.Sub(s.From)
	}
	return d
}

// Tally is the count of requests and failures by kind and error.
type Tally struct {
	Requests map[Kind]int            `json:"requests"`
	Failures map[Kind]map[string]int `json:"failures"`
	// FailedReads are reads that failed on every node tried.
	FailedReads int `json:"failed_reads"`
	// FailedOver are reads that succeeded only on a second or later node.
	FailedOver int `json:"failed_over_reads"`
}

// TallyOf counts the outcomes.
func TallyOf(outs []Outcome) Tally {
	t := Tally{Requests: map[Kind]int{}, Failures: map[Kind]map[string]int{}}
	for _, o := range outs {
		t.Requests[o.Kind]++
		if o.Kind.IsRead() && o.OK && o.Tries > 1 {
			t.FailedOver++
		}
		if o.OK {
			continue
		}
		if t.Failures[o.Kind] == nil {
			t.Failures[o.Kind] = map[string]int{}
		}
		t.Failures[o.Kind][o.Err]++
		if o.Kind.IsRead() {
			t.FailedReads++
		}
	}
	return t
}
