package main

import (
	"slices"
	"time"
)

// sample is one timed run of one tool in one case.
type sample struct {
	Wall  time.Duration
	RSSKB int64
	Floor time.Duration // migrate only: summed restart-until-ready time
	Steps int           // migrate only: restarts seen in the journals
	Code  int
	Load  *loadSample // migrate only, with -load: what the traffic saw
}

// loadSample is what the load (lab/load) saw during one migration.
type loadSample struct {
	FailedReads int
	ReadGap     time.Duration // longest interval without a successful read
	WriteDown   time.Duration // total time writes were refused
	Lost        int           // keys or ciphertexts missing on a node afterwards
}

// summary is what the table prints for one tool in one case.
type summary struct {
	Runs, Failed       int
	Median, Min, Max   time.Duration
	Floor              time.Duration // median over the runs
	Steps              int           // median over the runs
	Overhead           time.Duration // median over the runs of wall - floor - settle waits
	MaxRSSKB, MedRSSKB int64
	Load               *loadSummary
}

// loadSummary reduces the load samples: failures and losses summed over
// the runs, the worst read gap, the median write-unavailable time and the
// median of each run's write-unavailable / floor.
type loadSummary struct {
	FailedReads, Lost int
	MaxReadGap        time.Duration
	WriteDown         time.Duration
	WriteDownPerFloor float64
}

func summarizeLoad(ss []sample) *loadSummary {
	var l loadSummary
	var down []time.Duration
	var ratio []int64 // per mille, for the integer median
	for _, x := range ss {
		if x.Load == nil {
			return nil
		}
		l.FailedReads += x.Load.FailedReads
		l.Lost += x.Load.Lost
		l.MaxReadGap = max(l.MaxReadGap, x.Load.ReadGap)
		down = append(down, x.Load.WriteDown)
		if x.Floor > 0 {
			ratio = append(ratio, int64(1000*x.Load.WriteDown.Seconds()/x.Floor.Seconds()))
		}
	}
	if len(down) == 0 {
		return nil
	}
	l.WriteDown = median(down)
	if len(ratio) > 0 {
		l.WriteDownPerFloor = float64(median(ratio)) / 1000
	}
	return &l
}

// summarize reduces the samples of one tool in one case; settle is the
// wait after every restart (migrate), 0 otherwise.
func summarize(ss []sample, settle time.Duration) summary {
	s := summary{Runs: len(ss)}
	if len(ss) == 0 {
		return s
	}
	walls := make([]time.Duration, 0, len(ss))
	floors := make([]time.Duration, 0, len(ss))
	steps := make([]int, 0, len(ss))
	rss := make([]int64, 0, len(ss))
	over := make([]time.Duration, 0, len(ss))
	for _, x := range ss {
		if x.Code != 0 {
			s.Failed++
		}
		walls, floors = append(walls, x.Wall), append(floors, x.Floor)
		steps, rss = append(steps, x.Steps), append(rss, x.RSSKB)
		over = append(over, overhead(x, settle))
	}
	s.Median, s.Min, s.Max = median(walls), slices.Min(walls), slices.Max(walls)
	s.Floor, s.Steps = median(floors), median(steps)
	s.MedRSSKB, s.MaxRSSKB = median(rss), slices.Max(rss)
	s.Overhead = median(over)
	s.Load = summarizeLoad(ss)
	return s
}

// median of a non-empty slice; the mean of the two middle values for an
// even count (integer division for integer types).
func median[T ~int | ~int64](xs []T) T {
	c := slices.Clone(xs)
	slices.Sort(c)
	n := len(c)
	if n%2 == 1 {
		return c[n/2]
	}
	return (c[n/2-1] + c[n/2]) / 2
}

// overhead is a run's own cost: wall time minus what the nodes needed
// (floor) minus the settle waits both tools impose after every restart.
func overhead(x sample, settle time.Duration) time.Duration {
	return x.Wall - x.Floor - time.Duration(x.Steps)*settle
}
