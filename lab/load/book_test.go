package load

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/minio/kms-go/kms"
)

var t0 = time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)

// ms is t0 plus n milliseconds.
func ms(n int) time.Time { return t0.Add(time.Duration(n) * time.Millisecond) }

// out is an outcome from a to b (milliseconds after t0).
func out(k Kind, a, b int, ok bool) Outcome {
	o := Outcome{Kind: k, Start: ms(a), End: ms(b), OK: ok, Tries: 1}
	if !ok {
		o.Err = "503 node is not ready"
	}
	return o
}

func TestLongestReadGap(t *testing.T) {
	tests := []struct {
		name     string
		outs     []Outcome
		from, to int
		want     Span
	}{
		{"no reads: the whole run", nil, 0, 1000, Span{ms(0), ms(1000)}},
		{"steady reads", []Outcome{out(KindDecrypt, 0, 10, true), out(KindGenerate, 100, 110, true), out(KindDecrypt, 200, 990, true)},
			0, 1000, Span{ms(210 - 100), ms(990)}},
		{"failed reads and writes do not close a gap",
			[]Outcome{out(KindDecrypt, 0, 10, true), out(KindDecrypt, 100, 400, false), out(KindProbe, 200, 210, true), out(KindGenerate, 700, 800, true)},
			0, 1000, Span{ms(10), ms(800)}},
		{"gap at the end", []Outcome{out(KindDecrypt, 0, 50, true)}, 0, 1000, Span{ms(50), ms(1000)}},
		{"reads outside the window are ignored", []Outcome{out(KindDecrypt, -500, -400, true), out(KindDecrypt, 500, 600, true)},
			0, 1000, Span{ms(0), ms(600)}},
		{"unsorted input", []Outcome{out(KindDecrypt, 900, 950, true), out(KindDecrypt, 0, 20, true), out(KindDecrypt, 300, 310, true)},
			0, 1000, Span{ms(310), ms(950)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := LongestReadGap(tt.outs, ms(tt.from), ms(tt.to))
			if !got.From.Equal(tt.want.From) || !got.To.Equal(tt.want.To) {
				t.Fatalf("gap %v..%v, want %v..%v", got.From.Sub(t0), got.To.Sub(t0), tt.want.From.Sub(t0), tt.want.To.Sub(t0))
			}
		})
	}
}

func TestWriteOutages(t *testing.T) {
	tests := []struct {
		name  string
		outs  []Outcome
		to    int
		want  []Span
		total time.Duration
	}{
		{"always available", []Outcome{out(KindProbe, 0, 10, true), out(KindCreate, 100, 120, true)}, 1000, nil, 0},
		{"one outage, placed at the middle of each request",
			[]Outcome{out(KindProbe, 0, 10, true), out(KindProbe, 100, 110, false), out(KindProbe, 200, 210, false), out(KindCreate, 300, 320, true)},
			1000, []Span{{ms(105), ms(310)}}, 205 * time.Millisecond},
		{"reads are not writes", []Outcome{out(KindProbe, 0, 10, false), out(KindDecrypt, 100, 110, true), out(KindProbe, 500, 510, true)},
			1000, []Span{{ms(5), ms(505)}}, 500 * time.Millisecond},
		{"open at the end", []Outcome{out(KindProbe, 0, 10, true), out(KindCreate, 800, 900, false)}, 1000, []Span{{ms(850), ms(1000)}}, 150 * time.Millisecond},
		{"two outages, unsorted",
			[]Outcome{out(KindProbe, 600, 610, true), out(KindProbe, 0, 10, false), out(KindProbe, 400, 410, false), out(KindCreate, 200, 220, true)},
			1000, []Span{{ms(5), ms(210)}, {ms(405), ms(605)}}, 405 * time.Millisecond},
		{"a slow refused write overlapping a working probe",
			[]Outcome{out(KindCreate, 0, 1000, false), out(KindProbe, 100, 110, true), out(KindProbe, 900, 910, true)},
			2000, []Span{{ms(500), ms(905)}}, 405 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := WriteOutages(tt.outs, ms(tt.to))
			if fmt.Sprint(got) != fmt.Sprint(tt.want) {
				t.Fatalf("outages %v, want %v", got, tt.want)
			}
			if Total(got) != tt.total {
				t.Fatalf("total %v, want %v", Total(got), tt.total)
			}
		})
	}
}

func TestTallyOf(t *testing.T) {
	failedOver := out(KindGenerate, 0, 10, true)
	failedOver.Tries = 2
	refused := out(KindCreate, 0, 10, false)
	refused.Err = "503 cluster write refused: not every node is up"
	tl := TallyOf([]Outcome{out(KindDecrypt, 0, 1, true), out(KindDecrypt, 0, 1, false), out(KindDecrypt, 0, 1, false),
		failedOver, refused, out(KindProbe, 0, 1, false)})
	want := map[Kind]int{KindDecrypt: 3, KindGenerate: 1, KindCreate: 1, KindProbe: 1}
	if fmt.Sprint(tl.Requests) != fmt.Sprint(want) {
		t.Errorf("requests %v, want %v", tl.Requests, want)
	}
	if tl.FailedReads != 2 || tl.FailedOver != 1 {
		t.Errorf("failed reads %d (want 2), failed over %d (want 1)", tl.FailedReads, tl.FailedOver)
	}
	if tl.Failures[KindDecrypt]["503 node is not ready"] != 2 || tl.Failures[KindCreate]["503 cluster write refused: not every node is up"] != 1 {
		t.Errorf("failures %v", tl.Failures)
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		err  error
		read bool
		want bool
	}{
		{&kms.HostError{Host: "10.213.0.11:7373", Err: errors.New("dial tcp: connection refused")}, false, true},
		{&kms.HostError{Host: "h", Err: kms.Error{Code: 503, Err: "node is not ready: sealed"}}, true, true},
		{&kms.HostError{Host: "h", Err: kms.Error{Code: 503, Err: "cluster write refused: not every node is up"}}, false, false},
		{&kms.HostError{Host: "h", Err: kms.ErrDecrypt}, true, false},
		{&kms.HostError{Host: "h", Err: kms.ErrKeyNotFound}, true, false},
		{context.Canceled, true, false},
	}
	for _, tt := range tests {
		if got := retryable(tt.err, tt.read); got != tt.want {
			t.Errorf("retryable(%v, read %v) = %v, want %v", tt.err, tt.read, got, tt.want)
		}
	}
}

func TestErrText(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{&kms.HostError{Host: "10.213.0.12:7373", Err: kms.Error{Code: 503, Err: "node is starting"}}, "503 node is starting"},
		{&kms.HostError{Host: "10.213.0.12:7373", Err: errors.New(`Post "https://10.213.0.12:7373/v1/kms/x": dial tcp 10.213.0.12:7373: connect: connection refused`)}, "connection refused"},
		{fmt.Errorf("try: %w", context.DeadlineExceeded), "timeout"},
	}
	for _, tt := range tests {
		if got := errText(tt.err); got != tt.want {
			t.Errorf("errText(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func TestCheckLabEndpoint(t *testing.T) {
	for ep, ok := range map[string]bool{"10.213.0.11:7373": true, "127.0.0.1:7373": true, "[::1]:7373": true,
		"10.213.1.11:7373": false, "8.8.8.8:443": false, "kms-1:7373": false, "10.213.0.11": false} {
		if err := checkLabEndpoint(ep); (err == nil) != ok {
			t.Errorf("%s: %v", ep, err)
		}
	}
}

func TestOrderPutsSuspendedNodesLast(t *testing.T) {
	c := &Client{hosts: []string{"a", "b", "c", "d"}, suspendFor: time.Minute, suspended: map[string]time.Time{}}
	c.suspend("c", ms(0))
	c.suspend("a", ms(-1000))
	c.suspend("d", ms(-120000)) // long ago: free again
	for i := 0; i < 20; i++ {
		got := c.order(ms(10))
		if len(got) != 4 || got[2] != "a" || got[3] != "c" {
			t.Fatalf("order %v: want the free nodes first, then a (longest suspended), then c", got)
		}
	}
}
