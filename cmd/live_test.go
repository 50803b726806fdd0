package cmd

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// TestLiveLine: nothing for a wait under a second; a ticking line after it;
// erased before normal output and at the end; nothing at all off a terminal.
func TestLiveLine(t *testing.T) {
	var w syncBuf
	l := newLiveLine(&w, true, 300*time.Millisecond, 20*time.Millisecond)
	l.wait("kms-2: gate")
	time.Sleep(150 * time.Millisecond)
	if w.String() != "" {
		t.Fatalf("a short wait was shown: %q", w.String())
	}
	time.Sleep(400 * time.Millisecond)
	if !strings.Contains(w.String(), "kms-2: gate (0s)") {
		t.Fatalf("no live line after the delay: %q", w.String())
	}
	l.printf("done\n")
	if !strings.HasSuffix(w.String(), "\r\x1b[Kdone\n") {
		t.Errorf("the live line was not erased before output: %q", w.String())
	}
	l.close()

	var off syncBuf
	l = newLiveLine(&off, false, 0, time.Millisecond)
	l.wait("x")
	time.Sleep(50 * time.Millisecond)
	l.printf("line\n")
	l.close()
	if off.String() != "line\n" {
		t.Errorf("off a terminal: %q", off.String())
	}
}
