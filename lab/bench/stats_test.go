package main

import (
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	tests := []struct {
		in   []int64
		want int64
	}{
		{[]int64{5}, 5},
		{[]int64{3, 1, 2}, 2},
		{[]int64{4, 1, 3, 2}, 2},
		{[]int64{10, 10, 1, 100}, 10},
	}
	for _, tt := range tests {
		if got := median(tt.in); got != tt.want {
			t.Errorf("median(%v) = %d, want %d", tt.in, got, tt.want)
		}
	}
}

func TestSummarizeOverhead(t *testing.T) {
	ss := []sample{
		{Wall: 30 * time.Second, Floor: 10 * time.Second, Steps: 6, RSSKB: 100},
		{Wall: 32 * time.Second, Floor: 11 * time.Second, Steps: 6, RSSKB: 300, Code: 5},
		{Wall: 31 * time.Second, Floor: 12 * time.Second, Steps: 6, RSSKB: 200},
	}
	s := summarize(ss, 2*time.Second)
	// per-run overheads: 30-10-12=8, 32-11-12=9, 31-12-12=7
	if s.Median != 31*time.Second || s.Min != 30*time.Second || s.Max != 32*time.Second {
		t.Errorf("wall median/min/max %v %v %v", s.Median, s.Min, s.Max)
	}
	if s.Overhead != 8*time.Second || s.Floor != 11*time.Second || s.Steps != 6 {
		t.Errorf("overhead %v floor %v steps %d", s.Overhead, s.Floor, s.Steps)
	}
	if s.Failed != 1 || s.MedRSSKB != 200 || s.MaxRSSKB != 300 {
		t.Errorf("failed %d rss %d/%d", s.Failed, s.MedRSSKB, s.MaxRSSKB)
	}
}

func TestMaxRSS(t *testing.T) {
	report := "\tCommand being timed: \"kmsctl status\"\n\tMaximum resident set size (kbytes): 23456\n\tExit status: 0\n"
	if n, err := maxRSS([]byte(report)); err != nil || n != 23456 {
		t.Fatalf("maxRSS = %d, %v", n, err)
	}
	if _, err := maxRSS([]byte("nothing")); err == nil {
		t.Fatal("want an error for a report without the line")
	}
}

func TestSummarizeLoad(t *testing.T) {
	ls := func(failed int, gap, down time.Duration, lost int) *loadSample {
		return &loadSample{FailedReads: failed, ReadGap: gap, WriteDown: down, Lost: lost}
	}
	tests := []struct {
		name string
		ss   []sample
		want *loadSummary
	}{
		{"no load", []sample{{Floor: time.Second}}, nil},
		{"three runs", []sample{
			{Floor: 10 * time.Second, Load: ls(0, 300*time.Millisecond, 11*time.Second, 0)},
			{Floor: 10 * time.Second, Load: ls(2, 900*time.Millisecond, 12*time.Second, 0)},
			{Floor: 8 * time.Second, Load: ls(1, 100*time.Millisecond, 8*time.Second, 1)},
		}, &loadSummary{FailedReads: 3, Lost: 1, MaxReadGap: 900 * time.Millisecond, WriteDown: 11 * time.Second, WriteDownPerFloor: 1.1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := summarizeLoad(tt.ss)
			if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
				t.Fatalf("summarizeLoad = %+v, want %+v", got, tt.want)
			}
		})
	}
}
