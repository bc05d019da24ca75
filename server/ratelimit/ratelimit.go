// Package ratelimit limits failed attempts per key (an account, an IP): at
// most Burst failures in any rolling Window, then the key is locked out.
package ratelimit

import (
	"sync"
	"time"
)

// DefaultMaxKeys is the key cap used when Config.MaxKeys is zero or less.
const DefaultMaxKeys = 100_000

// Config configures a Limiter.
type Config struct {
	// Burst is the number of failures allowed in any rolling Window; the
	// next attempt is refused until the oldest of them is Window old.
	// It must be at least 1.
	Burst int
	// Window is the length of the rolling window. It must be positive.
	Window time.Duration
	// Clock returns the current time; nil means time.Now. It should not go
	// backwards.
	Clock func() time.Time
	// MaxKeys caps the keys tracked at once; past it the key with the oldest
	// activity is forgotten. Zero or less means DefaultMaxKeys.
	MaxKeys int
}

// Limiter tracks failures per key. It is safe for concurrent use. Memory is
// bounded by MaxKeys keys of Burst timestamps each; keys whose failures have
// all left the window are dropped as later calls pass by, with no goroutine.
//
// Evicting at MaxKeys forgets a key's failures, so a flood of new keys can
// shorten another key's lockout; size MaxKeys well above the keys expected in
// one Window, and limit per IP as well as per account.
type Limiter struct {
	burst   int
	window  time.Duration
	clock   func() time.Time
	maxKeys int
	epoch   time.Time

	mu   sync.Mutex
	keys map[string]*entry
	// Entries form a list from the most recently active (head) to the least
	// (tail), so the idle ones and the eviction victim are found at the tail.
	head, tail *entry
}

// entry is one key's state. Times are offsets from Limiter.epoch.
type entry struct {
	key        string
	fails      []time.Duration // ring of the newest failures, oldest at start; grows up to Burst
	start, n   int
	pending    int           // attempts reserved and not yet released
	active     time.Duration // last Fail or Reserve
	prev, next *entry
}

// New returns a Limiter for cfg. It panics if Burst < 1 or Window <= 0.
func New(cfg Config) *Limiter {
	if cfg.Burst < 1 {
		panic("ratelimit: Burst must be at least 1")
	}
	if cfg.Window <= 0 {
		panic("ratelimit: Window must be positive")
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.MaxKeys <= 0 {
		cfg.MaxKeys = DefaultMaxKeys
	}
	return &Limiter{
		burst:   cfg.Burst,
		window:  cfg.Window,
		clock:   cfg.Clock,
		maxKeys: cfg.MaxKeys,
		epoch:   cfg.Clock(),
		keys:    make(map[string]*entry),
	}
}

// Check reports whether key may make an attempt now. While it is locked out
// ok is false and retryAfter (> 0) is how long until one more attempt will be
// allowed. Successful attempts are not recorded and do not count; reserved
// attempts (see Reserve) count as failures until released.
func (l *Limiter) Check(key string) (retryAfter time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.prune(now)
	e := l.keys[key]
	if e == nil {
		return 0, true
	}
	return e.wait(now, l.burst, l.window)
}

// Fail records a failed attempt by key.
func (l *Limiter) Fail(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.prune(now)
	l.get(key, now).fail(now, l.burst)
}

// Reserve is Check that also, when ok, counts one attempt in flight for key
// until Release, so that concurrent attempts cannot all pass Check before any
// of them has failed. After ok the caller must call Release(key, failed) once;
// a reservation not released within Window is dropped.
func (l *Limiter) Reserve(key string) (retryAfter time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.prune(now)
	e := l.keys[key]
	if e != nil {
		if retryAfter, ok = e.wait(now, l.burst, l.window); !ok {
			return retryAfter, false
		}
	}
	e = l.get(key, now)
	e.pending++
	return 0, true
}

// Release ends an attempt reserved with Reserve, recording a failure when
// failed is true.
func (l *Limiter) Release(key string, failed bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.prune(now)
	e := l.keys[key]
	if e != nil && e.pending > 0 {
		e.pending--
	}
	if failed {
		l.get(key, now).fail(now, l.burst)
	}
}

// Reset forgets key's failures and reservations.
func (l *Limiter) Reset(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if e := l.keys[key]; e != nil {
		l.remove(e)
	}
}

// Len returns the number of keys tracked, for metrics and tests.
func (l *Limiter) Len() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.keys)
}

func (l *Limiter) now() time.Duration { return l.clock().Sub(l.epoch) }

// get returns key's entry, creating it (and evicting the least recently
// active entry past MaxKeys) if needed, and marks it active now.
func (l *Limiter) get(key string, now time.Duration) *entry {
	e := l.keys[key]
	if e == nil {
		e = &entry{key: key}
		l.keys[key] = e
		for len(l.keys) > l.maxKeys {
			l.remove(l.tail)
		}
	} else {
		l.unlink(e)
	}
	e.active = now
	l.pushFront(e)
	return e
}

// prune drops entries that have had no activity for a whole Window: all their
// failures have expired and their reservations are abandoned. Each call does
// work in proportion to the entries dropped.
func (l *Limiter) prune(now time.Duration) {
	for l.tail != nil && now-l.tail.active >= l.window {
		l.remove(l.tail)
	}
}

func (l *Limiter) remove(e *entry) {
	l.unlink(e)
	delete(l.keys, e.key)
}

func (l *Limiter) pushFront(e *entry) {
	e.prev, e.next = nil, l.head
	if l.head != nil {
		l.head.prev = e
	} else {
		l.tail = e
	}
	l.head = e
}

func (l *Limiter) unlink(e *entry) {
	if e.prev != nil {
		e.prev.next = e.next
	} else {
		l.head = e.next
	}
	if e.next != nil {
		e.next.prev = e.prev
	} else {
		l.tail = e.prev
	}
	e.prev, e.next = nil, nil
}

// fail records a failure at now, keeping the newest burst failures. The
// ring grows as failures come, up to burst: most keys (an address that
// mistyped once) never need more than a slot or two, and a flood of new
// keys must not cost Burst slots each.
func (e *entry) fail(now time.Duration, burst int) {
	if e.n == len(e.fails) && e.n < burst {
		e.grow(burst)
	}
	size := len(e.fails)
	if e.n < size {
		e.fails[(e.start+e.n)%size] = now
		e.n++
		return
	}
	e.fails[e.start] = now
	e.start = (e.start + 1) % size
}

// grow doubles the ring (at least 2, at most burst slots), oldest first.
func (e *entry) grow(burst int) {
	ring := make([]time.Duration, min(burst, max(2, 2*len(e.fails))))
	for i := range e.n {
		ring[i] = e.fails[(e.start+i)%len(e.fails)]
	}
	e.fails, e.start = ring, 0
}

// wait drops expired failures and reports whether one more attempt fits in
// the window, counting pending reservations as failures made now; if not,
// retryAfter is how long until it would, should every reservation fail.
func (e *entry) wait(now time.Duration, burst int, window time.Duration) (retryAfter time.Duration, ok bool) {
	for e.n > 0 && now-e.fails[e.start] >= window {
		e.start = (e.start + 1) % len(e.fails)
		e.n--
	}
	used := e.n + e.pending
	if used < burst {
		return 0, true
	}
	// Attempts in time order: the n failures, then the pending ones at now.
	// One more is allowed once all but burst-1 of them have left the window,
	// that is when attempt number used-burst (from 0) expires.
	at := now
	if i := used - burst; i < e.n {
		at = e.fails[(e.start+i)%len(e.fails)]
	}
	return at + window - now, false
}
