package main

import (
	"fmt"
	"slices"
	"time"
)

// dist summarises a sample of durations.
type dist struct {
	N         int           `json:"n"`
	P50       time.Duration `json:"p50_ns"`
	P90       time.Duration `json:"p90_ns"`
	P99       time.Duration `json:"p99_ns"`
	Max       time.Duration `json:"max_ns"`
	Mean      time.Duration `json:"mean_ns"`
	Min       time.Duration `json:"min_ns"`
	Total     time.Duration `json:"total_ns"` // sum of the sample
	Wall      time.Duration `json:"wall_ns"`  // elapsed time of the whole phase
	PerSecond float64       `json:"per_second"`
}

// summarize sorts d in place and returns its distribution; wall is the
// phase's elapsed time, from which the rate is computed.
func summarize(d []time.Duration, wall time.Duration) dist {
	out := dist{N: len(d), Wall: wall}
	if len(d) == 0 {
		return out
	}
	slices.Sort(d)
	for _, v := range d {
		out.Total += v
	}
	out.Min, out.Max = d[0], d[len(d)-1]
	out.Mean = out.Total / time.Duration(len(d))
	out.P50, out.P90, out.P99 = percentile(d, 50), percentile(d, 90), percentile(d, 99)
	if wall > 0 {
		out.PerSecond = float64(len(d)) / wall.Seconds()
	}
	return out
}

// percentile is the nearest-rank percentile p of the sorted sample d.
func percentile(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	rank := (p*len(d) + 99) / 100 // ceil(p/100 * n)
	return d[max(rank, 1)-1]
}

// ms formats a duration in milliseconds with a precision that suits it.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 1:
		return fmt.Sprintf("%.3f ms", v)
	case v < 10:
		return fmt.Sprintf("%.2f ms", v)
	case v < 100:
		return fmt.Sprintf("%.1f ms", v)
	}
	return fmt.Sprintf("%.0f ms", v)
}

// mib formats a byte count in MiB.
func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// kib formats a byte count in KiB.
func kib(b float64) string { return fmt.Sprintf("%.1f KiB", b/1024) }
