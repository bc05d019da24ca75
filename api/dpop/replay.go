package dpop

import (
	"crypto/sha256"
	"errors"
	"sync"
	"time"
)

// ErrReplaysFull is Replays.Use's answer when it holds as many proofs as
// it may: it refuses rather than forget one that could then be replayed.
var ErrReplaysFull = errors.New("dpop: too many recent proofs to remember")

// replaySlot is how long one generation of Replays covers.
const replaySlot = 10 * time.Second

// Replays remembers the proofs a server accepted while they could still
// be accepted (their iat within Window of the clock), to refuse each a
// second time. It is one replica's memory: a proof replayed to another
// replica is not caught there (DESIGN: replicas share the bound keys,
// not the proofs seen). It holds at most max proofs and is safe for
// concurrent use.
type Replays struct {
	mu   sync.Mutex
	max  int
	n    int
	gens map[int64]map[[16]byte]struct{} // by slot of iat
}

// NewReplays remembers at most max proofs (max ≤ 0: 1,000,000, about
// 27 MiB measured: some 15,000 bound requests a second, since a proof is
// kept only while its iat is within Window of the clock).
func NewReplays(max int) *Replays {
	if max <= 0 {
		max = 1_000_000
	}
	return &Replays{max: max, gens: map[int64]map[[16]byte]struct{}{}}
}

// Use records the proof c at now; it is ErrReplay (as an *Error) when c
// was recorded before, and ErrReplaysFull when no more fit.
func (r *Replays) Use(c Checked, now time.Time) error {
	sum := sha256.Sum256([]byte(c.JKT + "\x00" + c.JTI))
	var id [16]byte
	copy(id[:], sum[:])
	slot := c.IAT.Unix() / int64(replaySlot/time.Second)
	r.mu.Lock()
	defer r.mu.Unlock()
	r.forget(now)
	for _, g := range r.gens {
		if _, seen := g[id]; seen {
			return refuse(ErrReplay, "")
		}
	}
	if r.n >= r.max {
		return ErrReplaysFull
	}
	g := r.gens[slot]
	if g == nil {
		g = map[[16]byte]struct{}{}
		r.gens[slot] = g
	}
	g[id] = struct{}{}
	r.n++
	return nil
}

// Len is how many proofs are remembered.
func (r *Replays) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.n
}

// forget drops the generations whose proofs can no longer be accepted:
// every iat in them is more than Window before now.
func (r *Replays) forget(now time.Time) {
	oldest := now.Add(-Window).Unix() / int64(replaySlot/time.Second)
	for slot, g := range r.gens {
		if slot < oldest {
			r.n -= len(g)
			delete(r.gens, slot)
		}
	}
}
