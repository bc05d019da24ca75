package barrier

import (
	"sync"
	"sync/atomic"
	"testing"
)

// TestRunReleasesAllTogether: every racer is running before any returns,
// and each index runs once.
func TestRunReleasesAllTogether(t *testing.T) {
	const n = 16
	var (
		arrived atomic.Int32
		all     sync.WaitGroup
		seen    [n]atomic.Int32
	)
	all.Add(n)
	Run(n, func(i int) {
		arrived.Add(1)
		all.Done()
		all.Wait() // returns only once all n are running at once
		seen[i].Add(1)
	})
	for i := range seen {
		if got := seen[i].Load(); got != 1 {
			t.Errorf("racer %d ran %d times", i, got)
		}
	}
	if arrived.Load() != n {
		t.Errorf("%d racers ran, want %d", arrived.Load(), n)
	}
}
