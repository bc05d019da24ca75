package ratelimit

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fakeClock is a settable clock, safe for concurrent use.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newLimiter(burst int, window time.Duration, maxKeys int) (*Limiter, *fakeClock) {
	c := newClock()
	return New(Config{Burst: burst, Window: window, Clock: c.Now, MaxKeys: maxKeys}), c
}

func wantOK(t *testing.T, l *Limiter, key string) {
	t.Helper()
	if ra, ok := l.Check(key); !ok || ra != 0 {
		t.Fatalf("Check(%q) = %v, %v; want 0, true", key, ra, ok)
	}
}

func wantLocked(t *testing.T, l *Limiter, key string, retryAfter time.Duration) {
	t.Helper()
	if ra, ok := l.Check(key); ok || ra != retryAfter {
		t.Fatalf("Check(%q) = %v, %v; want %v, false", key, ra, ok, retryAfter)
	}
}

func TestUnderLimitAlwaysOK(t *testing.T) {
	l, c := newLimiter(5, 15*time.Minute, 0)
	wantOK(t, l, "alice") // unknown key
	for range 4 {
		l.Fail("alice")
		wantOK(t, l, "alice")
		c.Advance(time.Minute)
	}
	// After a quiet Window, a steady trickle of fewer than Burst failures
	// per Window (one every 4 minutes: at most 4 in any 15) never locks.
	c.Advance(15 * time.Minute)
	for range 100 {
		c.Advance(4 * time.Minute)
		l.Fail("alice")
		wantOK(t, l, "alice")
	}
}

func TestLockoutAndUnlock(t *testing.T) {
	const window = 15 * time.Minute
	l, c := newLimiter(3, window, 0)
	l.Fail("k") // t=0
	c.Advance(2 * time.Minute)
	l.Fail("k") // t=2m
	c.Advance(3 * time.Minute)
	l.Fail("k")                           // t=5m: third failure in the window
	wantLocked(t, l, "k", 10*time.Minute) // until the first is 15m old
	if ra, ok := l.Reserve("k"); ok || ra != 10*time.Minute {
		t.Fatalf("Reserve while locked = %v, %v", ra, ok)
	}
	c.Advance(9*time.Minute + 30*time.Second) // t=14m30s
	wantLocked(t, l, "k", 30*time.Second)
	c.Advance(30*time.Second - 1) // 1ns before the first failure expires
	wantLocked(t, l, "k", 1)
	c.Advance(1) // t=15m: the first failure has left the window
	wantOK(t, l, "k")
	// Rolling: one more failure locks again until the second one expires.
	l.Fail("k") // t=15m
	wantLocked(t, l, "k", 2*time.Minute)
	c.Advance(2 * time.Minute)
	wantOK(t, l, "k")
	// After a whole quiet window everything has expired.
	c.Advance(window)
	for range 2 {
		l.Fail("k")
		wantOK(t, l, "k")
	}
}

func TestBurstOne(t *testing.T) {
	l, c := newLimiter(1, time.Minute, 0)
	l.Fail("k")
	wantLocked(t, l, "k", time.Minute)
	c.Advance(time.Minute)
	wantOK(t, l, "k")
}

// Failures recorded while locked (e.g. by racing requests) keep the newest
// Burst and extend the lockout.
func TestFailWhileLocked(t *testing.T) {
	l, c := newLimiter(2, 10*time.Minute, 0)
	l.Fail("k")
	l.Fail("k")
	c.Advance(4 * time.Minute)
	l.Fail("k")
	// The newest two failures are at 0 and 4m: locked until 10m.
	wantLocked(t, l, "k", 6*time.Minute)
	l.Fail("k")
	wantLocked(t, l, "k", 10*time.Minute) // now both are at 4m
}

func TestKeysIndependent(t *testing.T) {
	l, _ := newLimiter(2, time.Hour, 0)
	l.Fail("account:alice")
	l.Fail("account:alice")
	wantLocked(t, l, "account:alice", time.Hour)
	wantOK(t, l, "account:bob")
	wantOK(t, l, "ip:192.0.2.1")
	l.Fail("account:bob")
	wantOK(t, l, "account:bob")
	l.Reset("account:alice")
	wantOK(t, l, "account:alice")
	l.Reset("never-seen") // no-op
}

func TestReserve(t *testing.T) {
	const window = 10 * time.Minute
	l, c := newLimiter(3, window, 0)
	for i := range 3 {
		if ra, ok := l.Reserve("k"); !ok {
			t.Fatalf("Reserve #%d = %v, false", i, ra)
		}
	}
	// Three attempts in flight: a fourth must wait as if they all failed now.
	if ra, ok := l.Reserve("k"); ok || ra != window {
		t.Fatalf("Reserve over the limit = %v, %v; want %v, false", ra, ok, window)
	}
	wantLocked(t, l, "k", window)
	l.Release("k", false) // a success frees its slot and records nothing
	wantOK(t, l, "k")
	c.Advance(time.Minute)
	l.Release("k", true) // failure at t=1m
	l.Release("k", true) // failure at t=1m
	wantOK(t, l, "k")
	if _, ok := l.Reserve("k"); !ok {
		t.Fatal("Reserve with 2 failures of 3 refused")
	}
	wantLocked(t, l, "k", window) // the pending one counts as a failure now
	l.Release("k", false)         // it succeeded
	l.Release("k", false)         // a stray release is harmless
	l.Release("unknown", false)   // so is one for an unknown key
	wantOK(t, l, "k")
	l.Fail("k")
	wantLocked(t, l, "k", window) // three failures at 1m: until 11m
}

// TestRetryAfterWithPending: with more attempts than Burst (reservations
// plus failures recorded by Fail meanwhile), retryAfter waits for the attempt
// that must expire, counting each reservation as a failure made now.
func TestRetryAfterWithPending(t *testing.T) {
	const window = 10 * time.Minute
	l, c := newLimiter(3, window, 0)
	if _, ok := l.Reserve("k"); !ok { // pending at t=0
		t.Fatal("Reserve refused")
	}
	l.Fail("k") // 0
	c.Advance(time.Minute)
	l.Fail("k") // 1m
	c.Advance(time.Minute)
	l.Fail("k") // 2m; attempts: 0, 1m, 2m and one pending (as of now)
	// Four attempts, Burst 3: wait until the second oldest (1m) expires.
	wantLocked(t, l, "k", window-time.Minute)

	l2, c2 := newLimiter(2, window, 0)
	l2.Reserve("k")
	l2.Reserve("k")
	c2.Advance(time.Minute)
	l2.Fail("k") // one failure and two pending: the pending one must expire
	wantLocked(t, l2, "k", window)
}

func TestAbandonedReservationExpires(t *testing.T) {
	l, c := newLimiter(1, time.Minute, 0)
	if _, ok := l.Reserve("k"); !ok {
		t.Fatal("first Reserve refused")
	}
	wantLocked(t, l, "k", time.Minute)
	c.Advance(time.Minute)
	wantOK(t, l, "k") // never released: dropped after Window
	if l.Len() != 0 {
		t.Fatalf("Len = %d after the reservation was abandoned, want 0", l.Len())
	}
}

func TestIdleKeysPruned(t *testing.T) {
	l, c := newLimiter(3, time.Minute, 0)
	for i := range 1000 {
		l.Fail("k" + strconv.Itoa(i))
	}
	if l.Len() != 1000 {
		t.Fatalf("Len = %d, want 1000", l.Len())
	}
	c.Advance(30 * time.Second)
	l.Fail("recent")
	c.Advance(30 * time.Second) // the 1000 are now a Window old, "recent" is not
	wantOK(t, l, "anything")    // any call prunes
	if l.Len() != 1 {
		t.Fatalf("Len = %d after a quiet Window, want 1", l.Len())
	}
	wantOK(t, l, "recent")
	l.Fail("recent")
	l.Fail("recent")
	wantLocked(t, l, "recent", 30*time.Second)
}

func TestMaxKeys(t *testing.T) {
	const max = 100
	l, c := newLimiter(1, time.Hour, max)
	for i := range 1000 {
		l.Fail("k" + strconv.Itoa(i))
		c.Advance(time.Millisecond)
		if n := l.Len(); n > max {
			t.Fatalf("Len = %d after %d keys, want at most %d", n, i+1, max)
		}
	}
	if l.Len() != max {
		t.Fatalf("Len = %d, want %d", l.Len(), max)
	}
	// The newest keys are kept (still locked); the oldest were evicted.
	for i := 900; i < 1000; i++ {
		if _, ok := l.Check("k" + strconv.Itoa(i)); ok {
			t.Fatalf("k%d was evicted, want it kept", i)
		}
	}
	for i := range 900 {
		if _, ok := l.Check("k" + strconv.Itoa(i)); !ok {
			t.Fatalf("k%d still tracked, want it evicted", i)
		}
	}
	// Activity moves a key to the front: k900 survives the next 99 new keys.
	l.Fail("k900")
	for i := range max - 1 {
		l.Fail("new" + strconv.Itoa(i))
	}
	if _, ok := l.Check("k900"); ok {
		t.Fatal("recently active k900 was evicted")
	}
	if _, ok := l.Check("k901"); !ok {
		t.Fatal("k901 was kept over more recent keys")
	}
}

func TestConfig(t *testing.T) {
	for name, cfg := range map[string]Config{
		"zero burst":      {Burst: 0, Window: time.Minute},
		"negative window": {Burst: 1, Window: -time.Second},
		"zero window":     {Burst: 1},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("%s: New did not panic", name)
				}
			}()
			New(cfg)
		}()
	}
	l := New(Config{Burst: 2, Window: time.Hour}) // real clock, default MaxKeys
	if l.maxKeys != DefaultMaxKeys {
		t.Errorf("maxKeys = %d, want %d", l.maxKeys, DefaultMaxKeys)
	}
	l.Fail("k")
	l.Fail("k")
	if ra, ok := l.Check("k"); ok || ra <= 0 || ra > time.Hour {
		t.Errorf("real clock: Check = %v, %v; want locked for up to an hour", ra, ok)
	}
}

// TestConcurrent runs every operation from many goroutines on overlapping
// keys (run it with -race), then checks the key cap and that the limiter
// still counts correctly.
func TestConcurrent(t *testing.T) {
	const maxKeys, workers = 50, 64
	l, c := newLimiter(3, time.Minute, maxKeys)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for w := range workers {
		wg.Go(func() {
			<-start
			for i := range 200 {
				key := fmt.Sprintf("k%d", (w*7+i)%80)
				switch i % 5 {
				case 0:
					l.Fail(key)
				case 1:
					l.Check(key)
				case 2:
					if _, ok := l.Reserve(key); ok {
						l.Release(key, i%2 == 0)
					}
				case 3:
					if n := l.Len(); n > maxKeys {
						t.Errorf("Len = %d, want at most %d", n, maxKeys)
					}
				case 4:
					if i%40 == 4 {
						l.Reset(key)
					}
					c.Advance(time.Millisecond)
				}
			}
		})
	}
	close(start)
	wg.Wait()
	if n := l.Len(); n > maxKeys {
		t.Errorf("Len = %d, want at most %d", n, maxKeys)
	}
	c.Advance(time.Minute)
	for range 2 {
		l.Fail("fresh")
		wantOK(t, l, "fresh")
	}
	l.Fail("fresh")
	wantLocked(t, l, "fresh", time.Minute)
}

// TestReserveExactlyBurst: with the clock still, Burst of many concurrent
// attempts pass Reserve before any has failed, and no more.
func TestReserveExactlyBurst(t *testing.T) {
	const burst, workers = 5, 100
	l, _ := newLimiter(burst, time.Minute, 0)
	var admitted atomic.Int32
	var wg sync.WaitGroup
	start := make(chan struct{})
	hold := make(chan struct{})
	for range workers {
		wg.Go(func() {
			<-start
			if _, ok := l.Reserve("victim"); ok {
				admitted.Add(1)
				<-hold // the attempt is still being verified
				l.Release("victim", true)
			}
		})
	}
	close(start)
	for admitted.Load() < burst {
		time.Sleep(time.Millisecond)
	}
	close(hold)
	wg.Wait()
	if n := admitted.Load(); n != burst {
		t.Fatalf("admitted %d concurrent attempts, want exactly %d", n, burst)
	}
	wantLocked(t, l, "victim", time.Minute)
}

func BenchmarkCheckFail(b *testing.B) {
	l, _ := newLimiter(5, 15*time.Minute, 0)
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = "ip:192.0.2." + strconv.Itoa(i)
	}
	i := 0
	for b.Loop() {
		k := keys[i%len(keys)]
		l.Check(k)
		l.Fail(k)
		i++
	}
}

func BenchmarkCheckFailParallel(b *testing.B) {
	l := New(Config{Burst: 5, Window: 15 * time.Minute})
	keys := make([]string, 4096)
	for i := range keys {
		keys[i] = "ip:192.0.2." + strconv.Itoa(i)
	}
	var n atomic.Uint32
	b.RunParallel(func(pb *testing.PB) {
		i := int(n.Add(1)) * 1009
		for pb.Next() {
			k := keys[i%len(keys)]
			l.Check(k)
			l.Fail(k)
			i++
		}
	})
}

// The failure ring grows as failures come (a key that failed once holds
// one or two slots, not Burst); whatever the order of failures, expiries
// and growth, Check answers as a plain list of failure times would.
func TestGrowingRingMatchesAList(t *testing.T) {
	const burst, window = 7, time.Minute
	l, c := newLimiter(burst, window, 0)
	var list []time.Time // the model: every failure, kept while in the window
	rng := uint64(42)
	next := func(n uint64) uint64 { rng = rng*6364136223846793005 + 1442695040888963407; return (rng >> 33) % n }
	for step := range 2000 {
		if next(3) == 0 {
			l.Fail("k")
			list = append(list, c.Now())
		}
		c.Advance(time.Duration(next(20)) * time.Second)
		now := c.Now()
		for len(list) > 0 && now.Sub(list[0]) >= window {
			list = list[1:]
		}
		if len(list) > burst {
			list = list[len(list)-burst:] // the limiter keeps the newest burst
		}
		wantOKModel := len(list) < burst
		ra, ok := l.Check("k")
		if ok != wantOKModel {
			t.Fatalf("step %d: Check ok = %v with %d failures in the window (burst %d)", step, ok, len(list), burst)
		}
		if !ok && ra != list[0].Add(window).Sub(now) {
			t.Fatalf("step %d: retry after %v, want %v", step, ra, list[0].Add(window).Sub(now))
		}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.keys["k"]; e != nil && len(e.fails) > burst {
		t.Fatalf("ring of %d slots for burst %d", len(e.fails), burst)
	}
}

// A key that failed once costs one small ring, not Burst slots.
func TestOneFailureCostsLittle(t *testing.T) {
	l, _ := newLimiter(100, time.Minute, 0)
	for i := range 1000 {
		l.Fail(strconv.Itoa(i))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for k, e := range l.keys {
		if len(e.fails) > 2 {
			t.Fatalf("key %s holds %d slots after one failure", k, len(e.fails))
		}
	}
}
