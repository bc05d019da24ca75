//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"sessionguard/api"
	"sessionguard/server/store"
)

// The inactivity sweeper (device rules): what one sweep costs with
// --sweep-sessions sessions under a rule, and whether requests wait for it.
// Every seeded sweep account has the rule "log out after 24 hours unused",
// so every one of its sessions is in the index of idle deadlines; none is
// due. sessiond runs with --idle-sweep-every --sweep-every. The phase reads
// the time of the sweeps that find nothing from sessiond's metrics, then,
// for each --sweep-due count, makes that many sessions due at once (a
// TouchSession into the past through its own store handle) and reads the
// sweeps that end them from sessiond's log (each logs how many it ended
// and how long it took: its transactions, the closure tokens, audit events
// and pushes included). Meanwhile GET /v1/me (reads) and POST
// /v1/token/refresh (one write transaction each) run, paced, on sessions
// of their own, and their latency is split by whether the request
// overlapped a sweep that ended sessions.

// sweepRule is the seeded accounts' rule; sweepLife the seeded sessions'
// lifetime (longer than the rule, so their deadline is indexed).
const (
	sweepRule = 24 * time.Hour
	sweepLife = 400 * 24 * time.Hour
)

// sweepLog is one sweep that ended sessions, as sessiond logged it.
type sweepLog struct {
	At    time.Time     `json:"at"` // when it finished
	Ended int           `json:"ended"`
	Took  time.Duration `json:"took_ns"`
	// DB is the part of Took spent in the store's transactions
	// (Transactions of them); the rest is the pushes after each commit.
	DB           time.Duration `json:"db_ns"`
	Transactions int           `json:"transactions"`
}

// sweepStep is one --sweep-due count.
type sweepStep struct {
	Due    int        `json:"due"`
	Sweeps []sweepLog `json:"sweeps"`
	// MadeDue is how long touching the sessions into the past took.
	MadeDue time.Duration `json:"made_due_ns"`
}

// sweepResult is the sweep phase on one store.
type sweepResult struct {
	Sessions int `json:"sessions"`
	// EmptySweeps is how many sweeps found nothing, and EmptyMean their
	// mean time, from sessiond_idle_sweep_duration_seconds.
	EmptySweeps int           `json:"empty_sweeps"`
	EmptyMean   time.Duration `json:"empty_mean_ns"`
	Every       time.Duration `json:"every_ns"`
	Steps       []sweepStep   `json:"steps"`
	// Request latency during a sweep that ended sessions, and otherwise.
	ReadsDuring   dist          `json:"reads_during"`
	ReadsOutside  dist          `json:"reads_outside"`
	WritesDuring  dist          `json:"writes_during"`
	WritesOutside dist          `json:"writes_outside"`
	Took          time.Duration `json:"took_ns"`
}

// probe is one request made during the phase.
type probe struct {
	start time.Time
	d     time.Duration
	write bool
}

// runSweep is the sweep phase: a sessiond of its own on db, sweeping every
// --sweep-every.
func runSweep(ctx context.Context, cfg *config, be backend, bin, db string, data *seeded, logTo io.Writer,
	logf func(string, ...any)) (*sweepResult, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, cfg.PhaseTimeout)
	defer cancel()
	args := append([]string{"--idle-sweep-every", cfg.SweepEvery.String()}, cfg.ServerArgs...)
	sd, err := startSessiond(ctx, bin, db, args, childEnv(cfg.ServerEnv), logTo)
	if err != nil {
		return nil, err
	}
	stopped := false
	defer func() {
		if !stopped {
			_ = sd.Stop()
		}
	}()
	st, err := be.Open(ctx)
	if err != nil {
		return nil, fmt.Errorf("opening the database to make sessions due: %w", err)
	}
	defer st.Close()
	r := &runner{cfg: cfg, sd: sd, client: newHTTPClient(len(data.SweepProbes) + 4), data: data, logf: logf}
	res := &sweepResult{Sessions: len(data.SweepIDs), Every: cfg.SweepEvery}

	probes := r.startProbes(ctx)
	// The sweeps with nothing due, after the one at start (whose first
	// queries also open connections and prepare statements).
	const count, sum = "sessiond_idle_sweep_duration_seconds_count", "sessiond_idle_sweep_duration_seconds_sum"
	m1, err := r.waitMetric(ctx, count, 1, cfg.SweepEvery+30*time.Second)
	if err != nil {
		return nil, r.wrap(ctx, "sweep: the sweep at start", err)
	}
	m2, err := r.waitMetric(ctx, count, m1[count]+4, 5*cfg.SweepEvery+30*time.Second)
	if err != nil {
		return nil, r.wrap(ctx, "sweep: the sweeps with nothing due", err)
	}
	res.EmptySweeps = int(m2[count] - m1[count])
	res.EmptyMean = time.Duration((m2[sum] - m1[sum]) / (m2[count] - m1[count]) * float64(time.Second))
	logf("sweep: %d sweeps found nothing due among %d sessions with a rule, %s each on average", res.EmptySweeps, res.Sessions, ms(res.EmptyMean))

	next := 0
	for _, due := range cfg.SweepDue {
		ids := data.SweepIDs[next : next+due]
		next += due
		step := sweepStep{Due: due}
		drain(sd.sweeps)
		t0 := time.Now()
		past := t0.UTC().Add(-sweepRule - time.Hour).Truncate(time.Microsecond)
		err := parallel(ctx, len(ids), cfg.SeedWorkers, func(i int) error {
			return st.TouchSession(ctx, ids[i], store.Touch{LastSeenAt: past, ExpiresAt: past.Add(sweepLife), IP: "127.0.0.1"})
		})
		if err != nil {
			return nil, r.wrap(ctx, "sweep: making sessions due", err)
		}
		step.MadeDue = time.Since(t0)
		ended := 0
		wait := time.NewTimer(2*cfg.SweepEvery + time.Minute)
		for ended < due {
			select {
			case s := <-sd.sweeps:
				step.Sweeps = append(step.Sweeps, s)
				ended += s.Ended
			case <-wait.C:
				return nil, fmt.Errorf("sweep: %d of %d due sessions ended within %v", ended, due, 2*cfg.SweepEvery+time.Minute)
			case <-ctx.Done():
				return nil, r.timedOut(ctx, "sweep", ended, due)
			case <-sd.done:
				return nil, sd.alive()
			}
		}
		wait.Stop()
		if ended != due {
			return nil, fmt.Errorf("sweep: the sweeper ended %d sessions, %d were made due", ended, due)
		}
		var longest, db time.Duration
		for _, s := range step.Sweeps {
			longest, db = max(longest, s.Took), max(db, s.DB)
		}
		logf("sweep: %d due sessions ended by %d sweeps, the longest %s (%s in the database)", due, len(step.Sweeps), ms(longest), ms(db))
		res.Steps = append(res.Steps, step)
	}
	samples, err := probes()
	if err != nil {
		return nil, r.wrap(ctx, "sweep: requests during the sweeps", err)
	}
	res.split(samples)
	r.client.CloseIdleConnections()
	stopped = true
	if err := sd.Stop(); err != nil {
		return nil, err
	}
	res.Took = time.Since(start)
	return res, nil
}

// split sorts the requests by whether they overlapped a sweep that ended
// sessions.
func (res *sweepResult) split(samples []probe) {
	var windows [][2]time.Time
	for _, st := range res.Steps {
		for _, s := range st.Sweeps {
			windows = append(windows, [2]time.Time{s.At.Add(-s.Took), s.At})
		}
	}
	var rd, ro, wd, wo []time.Duration
	for _, p := range samples {
		during := false
		for _, w := range windows {
			if p.start.Before(w[1]) && p.start.Add(p.d).After(w[0]) {
				during = true
				break
			}
		}
		switch {
		case p.write && during:
			wd = append(wd, p.d)
		case p.write:
			wo = append(wo, p.d)
		case during:
			rd = append(rd, p.d)
		default:
			ro = append(ro, p.d)
		}
	}
	res.ReadsDuring, res.ReadsOutside = summarize(rd, 0), summarize(ro, 0)
	res.WritesDuring, res.WritesOutside = summarize(wd, 0), summarize(wo, 0)
}

// drain empties c.
func drain(c <-chan sweepLog) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

// waitMetric polls sessiond's metrics until name reaches at least want,
// and returns them.
func (r *runner) waitMetric(ctx context.Context, name string, want float64, within time.Duration) (map[string]float64, error) {
	deadline := time.Now().Add(within)
	for {
		m, err := r.sd.metrics(ctx, r.client)
		if err != nil {
			return nil, err
		}
		if m[name] >= want {
			return m, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("%s is %v after %v, want %v", name, m[name], within, want)
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// startProbes sends, until the returned function is called, GET /v1/me on
// half the probe sessions (each 50 a second) and POST /v1/token/refresh on
// the other half (each 10 a second, following its rotated token), and
// returns every request's start and latency.
func (r *runner) startProbes(ctx context.Context) func() ([]probe, error) {
	ctx, cancel := context.WithCancel(ctx)
	var (
		mu    sync.Mutex
		out   []probe
		first error
		wg    sync.WaitGroup
	)
	fail := func(err error) {
		mu.Lock()
		if first == nil && ctx.Err() == nil {
			first = err
		}
		mu.Unlock()
		cancel()
	}
	for i, s := range r.data.SweepProbes {
		write := i%2 == 1
		interval := 20 * time.Millisecond
		if write {
			interval = 100 * time.Millisecond
		}
		wg.Go(func() {
			refresh := s.Refresh
			var mine []probe
			defer func() { mu.Lock(); out = append(out, mine...); mu.Unlock() }()
			t := time.NewTicker(interval)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				t0 := time.Now()
				var err error
				if write {
					var tok api.Tokens
					if err = call(ctx, r.client, "POST", r.sd.URL+"/v1/token/refresh", "", api.RefreshRequest{RefreshToken: refresh}, &tok); err == nil {
						refresh = tok.RefreshToken
					}
				} else {
					err = call(ctx, r.client, "GET", r.sd.URL+"/v1/me", s.Token, nil, nil)
				}
				if err != nil {
					if !errors.Is(err, context.Canceled) {
						fail(err)
					}
					return
				}
				mine = append(mine, probe{start: t0, d: time.Since(t0), write: write})
			}
		})
	}
	return func() ([]probe, error) {
		cancel()
		wg.Wait()
		return out, first
	}
}
