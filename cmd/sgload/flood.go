//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"sessionguard/api"
	"sessionguard/server/token"
)

// The sign-in flood: bad sign-ins from many addresses at once, as an
// attacker with a botnet would send them, while a few clients that are
// signed in call GET /v1/me at a steady rate. sessiond's argon2id
// admission (a few hashes at a time, a short queue, 503 beyond it) must
// keep those calls fast.

// floodNet is where the flood's addresses come from: 198.18.0.0/15, the
// range set aside for benchmarking (RFC 2544). They only ever appear in an
// X-Forwarded-For header sent to sessiond on loopback, which believes it
// because sgload starts it with --trusted-proxy 127.0.0.1/32.
var floodNet = netip.MustParsePrefix("198.18.0.0/15")

// floodAddr is the n-th address of floodNet (wrapping around after 131,072).
func floodAddr(n uint64) netip.Addr {
	base := floodNet.Addr().As4()
	v := uint32(base[0])<<24 | uint32(base[1])<<16 | uint32(base[2])<<8 | uint32(base[3])
	v += uint32(n % (1 << (32 - floodNet.Bits())))
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// floodBackoff is how long a flood worker waits after a 429 or 503 before
// its next attempt (it ignores Retry-After, as an attacker would, but does
// not spin on the cores it shares with sessiond).
const floodBackoff = 50 * time.Millisecond

// floodWarmup is how long the flood runs before GET /v1/me is measured
// under it, so that sessiond's hash queue is full (shorter if the flood
// is: the smoke test's).
func (c *config) floodWarmup() time.Duration { return min(time.Second, c.FloodDuration) }

// meWindow is GET /v1/me, paced, over one window.
type meWindow struct {
	Latency dist   `json:"latency"`
	Planned int    `json:"planned"` // requests the pace asked for; fewer were sent if some took longer than the interval
	CPU     cpuUse `json:"cpu"`
}

// floodKind is one kind of bad sign-in, flooded.
type floodKind struct {
	Kind string   `json:"kind"`
	Me   meWindow `json:"me"`
	// Attempts answered, by status, from the flood's start to the end of
	// its last attempt (the drain included).
	Attempts     int `json:"attempts"`
	Unauthorized int `json:"status_401"`
	RateLimited  int `json:"status_429"`
	Busy         int `json:"status_503"`
	// Window is the flood's sending time (warm-up and measurement);
	// PerSecond is the attempts answered within it per second.
	Window    time.Duration `json:"window_ns"`
	PerSecond float64       `json:"attempts_per_second"`
	Drain     time.Duration `json:"drain_ns"` // from the window's end to the last answer
	// Answered401 is how long the 401s took, queueing in sessiond included.
	Answered401 dist   `json:"latency_401"`
	Answered503 dist   `json:"latency_503"`
	CPU         cpuUse `json:"cpu"` // the whole flood, warm-up and drain included
	PeakRSS     int64  `json:"peak_rss"`
}

// floodResult is the whole flood phase on one store.
type floodResult struct {
	Workers   int           `json:"workers"`
	Duration  time.Duration `json:"duration_ns"`
	Warmup    time.Duration `json:"warmup_ns"`
	MeWorkers int           `json:"me_workers"`
	MeRate    float64       `json:"me_rate"`
	Baseline  meWindow      `json:"baseline"`
	Kinds     []floodKind   `json:"kinds"`
}

func (r *runner) phaseFlood(ctx context.Context) (*floodResult, error) {
	cfg := r.cfg
	ctx, cancel := r.phaseCtx(ctx)
	defer cancel()
	res := &floodResult{Workers: cfg.FloodWorkers, Duration: cfg.FloodDuration, Warmup: cfg.floodWarmup(), MeWorkers: cfg.FloodMeWorkers, MeRate: cfg.FloodMeRate}
	meClient := newHTTPClient(cfg.FloodMeWorkers)
	defer meClient.CloseIdleConnections()

	r.logf("flood: GET /v1/me baseline, %.0f/s on %d connections for %v", cfg.FloodMeRate, cfg.FloodMeWorkers, cfg.FloodDuration)
	// Pacing first so that every connection is open and warm.
	if _, err := r.paceMe(ctx, meClient, cfg.floodWarmup()); err != nil {
		return nil, r.wrap(ctx, "flood: GET /v1/me warm-up", err)
	}
	var err error
	if res.Baseline, err = r.paceMe(ctx, meClient, cfg.FloodDuration); err != nil {
		return nil, r.wrap(ctx, "flood: GET /v1/me baseline", err)
	}
	for _, kind := range cfg.FloodKinds {
		r.logf("flood: %d bad sign-ins at a time (%s) for %v + %v, GET /v1/me %.0f/s meanwhile", cfg.FloodWorkers, kind,
			cfg.floodWarmup(), cfg.FloodDuration, cfg.FloodMeRate)
		fk, err := r.flood(ctx, meClient, kind)
		if err != nil {
			return nil, r.wrap(ctx, "flood ("+kind+")", err)
		}
		r.logf("flood: %s: %d attempts (%.1f/s): %d × 401, %d × 429, %d × 503; GET /v1/me p50 %s, p99 %s, max %s (baseline p99 %s)",
			kind, fk.Attempts, fk.PerSecond, fk.Unauthorized, fk.RateLimited, fk.Busy, ms(fk.Me.Latency.P50),
			ms(fk.Me.Latency.P99), ms(fk.Me.Latency.Max), ms(res.Baseline.Latency.P99))
		res.Kinds = append(res.Kinds, *fk)
	}
	return res, nil
}

// paceMe sends GET /v1/me at --flood-me-rate over --flood-me-workers
// connections (each its own session, its requests evenly spaced and the
// connections staggered) for d, and times each request from its sending.
// A connection whose request outlasts its interval skips the ticks it
// missed, so Planned - N is the requests a slow answer held back.
func (r *runner) paceMe(ctx context.Context, c *http.Client, d time.Duration) (meWindow, error) {
	n := r.cfg.FloodMeWorkers
	interval := time.Duration(float64(n) * float64(time.Second) / r.cfg.FloodMeRate)
	u := r.sd.URL + "/v1/me"
	var (
		mu    sync.Mutex
		lat   []time.Duration
		first error
		wg    sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	cpu := startCPU(r.sd.Pid)
	start := time.Now()
	end := start.Add(d)
	for w := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine []time.Duration
			defer func() { mu.Lock(); lat = append(lat, mine...); mu.Unlock() }()
			// Stagger: connection w starts w/n of an interval late.
			next := start.Add(time.Duration(w) * interval / time.Duration(n))
			for {
				if wait := time.Until(next); wait > 0 {
					select {
					case <-time.After(wait):
					case <-ctx.Done():
						return
					}
				}
				if !time.Now().Before(end) {
					return
				}
				t0 := time.Now()
				var me api.MeResponse
				err := call(ctx, c, "GET", u, r.data.Me[w].Token, nil, &me)
				if err == nil && me.Account.Username != userMe {
					err = fmt.Errorf("GET /v1/me answered account %q, want %q", me.Account.Username, userMe)
				}
				if err != nil {
					mu.Lock()
					if first == nil {
						first = err
					}
					mu.Unlock()
					cancel()
					return
				}
				mine = append(mine, time.Since(t0))
				// The next tick still ahead (ticks missed are skipped).
				for next = next.Add(interval); !next.After(time.Now()); next = next.Add(interval) {
				}
			}
		}()
	}
	wg.Wait()
	use := cpu.stop()
	if first != nil {
		return meWindow{}, first
	}
	return meWindow{Latency: summarize(lat, d), Planned: int(float64(d) / float64(interval) * float64(n)), CPU: use}, nil
}

// floodTally counts the flood's answers.
type floodTally struct {
	mu             sync.Mutex
	lat401, lat503 []time.Duration
	n429, inWindow int
	lastAt         time.Time
}

// flood runs one kind of flood and measures GET /v1/me under it.
func (r *runner) flood(ctx context.Context, meClient *http.Client, kind string) (*floodKind, error) {
	cfg := r.cfg
	fk := &floodKind{Kind: kind}
	client := newHTTPClient(cfg.FloodWorkers)
	defer client.CloseIdleConnections()
	var (
		tally    floodTally
		sent     atomic.Int64
		firstErr error
		errOnce  sync.Once
		wg       sync.WaitGroup
	)
	fctx, stopFlood := context.WithCancel(ctx) // cancelled only on an error
	defer stopFlood()
	fail := func(err error) { errOnce.Do(func() { firstErr = err; stopFlood() }) }
	peak := watchRSS(r.sd.Pid)
	cpu := startCPU(r.sd.Pid)
	start := time.Now()
	windowEnd := start.Add(cfg.floodWarmup() + cfg.FloodDuration)
	for range cfg.FloodWorkers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for fctx.Err() == nil && time.Now().Before(windowEnd) {
				n := sent.Add(1) - 1
				if n >= int64(cfg.FloodMax) {
					return
				}
				seq := r.floodSeq.Add(1) - 1
				status, took, err := r.badSignIn(fctx, client, kind, seq)
				if err != nil {
					fail(err)
					return
				}
				now := time.Now()
				tally.mu.Lock()
				switch status {
				case http.StatusUnauthorized:
					tally.lat401 = append(tally.lat401, took)
				case http.StatusTooManyRequests:
					tally.n429++
				case http.StatusServiceUnavailable:
					tally.lat503 = append(tally.lat503, took)
				}
				if now.Before(windowEnd) {
					tally.inWindow++
				}
				tally.lastAt = now
				tally.mu.Unlock()
				if status != http.StatusUnauthorized {
					select {
					case <-time.After(floodBackoff):
					case <-fctx.Done():
						return
					}
				}
			}
		}()
	}
	// GET /v1/me under the flood, once sessiond's queue has filled.
	select {
	case <-time.After(cfg.floodWarmup()):
	case <-fctx.Done():
	}
	var meErr error
	if fctx.Err() == nil {
		fk.Me, meErr = r.paceMe(fctx, meClient, cfg.FloodDuration)
		if meErr != nil {
			fail(fmt.Errorf("GET /v1/me under the flood: %w", meErr))
		}
	}
	// The workers stop sending at windowEnd; wait for the answers in flight
	// (sessiond holds a queued attempt at most 10 s).
	wg.Wait()
	fk.CPU = cpu.stop()
	fk.PeakRSS = peak.Stop()
	if firstErr != nil {
		return nil, firstErr
	}
	fk.Window = windowEnd.Sub(start)
	fk.Unauthorized, fk.RateLimited, fk.Busy = len(tally.lat401), tally.n429, len(tally.lat503)
	fk.Attempts = fk.Unauthorized + fk.RateLimited + fk.Busy
	fk.PerSecond = float64(tally.inWindow) / fk.Window.Seconds()
	if tally.lastAt.After(windowEnd) {
		fk.Drain = tally.lastAt.Sub(windowEnd)
	}
	fk.Answered401 = summarize(tally.lat401, 0)
	fk.Answered503 = summarize(tally.lat503, 0)
	if fk.Attempts == 0 {
		return nil, fmt.Errorf("no sign-in attempt was answered")
	}
	return fk, nil
}

// badSignIn sends one wrong sign-in, number seq, from its own address, and
// returns the status (401, 429 or 503; anything else is an error) and how
// long the answer took.
func (r *runner) badSignIn(ctx context.Context, c *http.Client, kind string, seq int64) (int, time.Duration, error) {
	user := fmt.Sprintf("flood-%d-%s", seq, token.NewID("")[:8]) // unknown: never an account
	if kind == floodAccounts {
		user = r.data.FloodUsers[seq%int64(len(r.data.FloodUsers))]
	}
	body, err := json.Marshal(api.LoginRequest{Username: user, Password: fmt.Sprintf("wrong-%d", seq),
		Device: api.Device{ID: fmt.Sprintf("dev_flood_%d", seq), Name: "Flood", Platform: api.PlatformLinux}})
	if err != nil {
		return 0, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, "POST", r.sd.URL+"/v1/login", bytes.NewReader(body))
	if err != nil {
		return 0, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-Forwarded-For", floodAddr(uint64(seq)).String())
	t0 := time.Now()
	resp, err := c.Do(req)
	if err != nil {
		return 0, 0, fmt.Errorf("POST /v1/login: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 4096))
	resp.Body.Close()
	took := time.Since(t0)
	if err != nil {
		return 0, 0, fmt.Errorf("POST /v1/login: reading the answer: %w", err)
	}
	switch resp.StatusCode {
	case http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusServiceUnavailable:
		return resp.StatusCode, took, nil
	}
	return 0, 0, fmt.Errorf("POST /v1/login with a wrong password: status %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
}
