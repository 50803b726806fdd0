package cmd

import (
	"fmt"
	"io"
	"sync"
	"time"
)

// liveLine is one self-rewriting line on a terminal's stderr: it appears
// only once a wait has lasted over a second, ticks the elapsed time with a
// spinner, and is erased before any other line is written. Without a
// terminal (pipes, CI logs, TERM=dumb) it writes nothing at all.
type liveLine struct {
	w       io.Writer
	enabled bool
	delay   time.Duration
	tick    time.Duration

	mu    sync.Mutex
	label string
	since time.Time
	shown bool
	frame int
	stop  chan struct{}
	done  chan struct{}
}

var spinnerFrames = []string{"⠋", "⠙", "⠹", "⠸", "⠼", "⠴", "⠦", "⠧", "⠇", "⠏"}

// newLiveLine starts the ticker: the line appears after delay and is
// redrawn every tick. Close it when done.
func newLiveLine(w io.Writer, enabled bool, delay, tick time.Duration) *liveLine {
	l := &liveLine{w: w, enabled: enabled, delay: delay, tick: tick, stop: make(chan struct{}), done: make(chan struct{})}
	if !enabled {
		close(l.done)
		return l
	}
	go l.run()
	return l
}

// liveFor is the live line of a command's stderr.
func liveFor(s *IOStreams) *liveLine {
	return newLiveLine(s.ErrOut, s.ErrTTY && !s.Dumb, time.Second, 200*time.Millisecond)
}

func (l *liveLine) run() {
	defer close(l.done)
	t := time.NewTicker(l.tick)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			l.draw()
		}
	}
}

// draw shows the current wait once it is older than the delay.
func (l *liveLine) draw() {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.label == "" || time.Since(l.since) < l.delay {
		return
	}
	l.frame = (l.frame + 1) % len(spinnerFrames)
	fmt.Fprintf(l.w, "\r\x1b[K%s %s (%ds)", spinnerFrames[l.frame], l.label, int(time.Since(l.since).Seconds()))
	l.shown = true
}

// wait starts (or replaces) the wait shown; "" shows none.
func (l *liveLine) wait(label string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.eraseLocked()
	l.label, l.since = label, time.Now()
}

// printf erases the live line, writes a normal line, and keeps the wait.
func (l *liveLine) printf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.eraseLocked()
	fmt.Fprintf(l.w, format, args...)
}

func (l *liveLine) eraseLocked() {
	if l.shown {
		fmt.Fprint(l.w, "\r\x1b[K")
		l.shown = false
	}
}

// close erases the line and stops the ticker.
func (l *liveLine) close() {
	if l.enabled {
		close(l.stop)
	}
	<-l.done
	l.mu.Lock()
	l.eraseLocked()
	l.mu.Unlock()
}
