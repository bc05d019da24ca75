//go:build linux

package main

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"time"

	"sessionguard/api"
	"sessionguard/api/dpop"
)

// boundRound is one round of the bound phase: GET /v1/me with Bearer
// tokens (Bound false) or with DPoP-bound ones, each request with a fresh
// proof.
type boundRound struct {
	Bound       bool    `json:"bound"`
	Latency     dist    `json:"latency"`
	CPU         cpuUse  `json:"cpu"`
	ServerCPUUs float64 `json:"server_cpu_us_per_request"`
	// ProofsTook is how long sgload took to make the round's proofs,
	// before the round (and its CPU window) started.
	ProofsTook time.Duration `json:"proofs_took_ns"`
}

// boundResult is the bound phase: rounds alternating unbound and bound,
// and the mean of sessiond's CPU per request of each kind.
type boundResult struct {
	Concurrency  int          `json:"concurrency"`
	Requests     int          `json:"requests_per_round"`
	Rounds       []boundRound `json:"rounds"`
	UnboundCPUUs float64      `json:"unbound_server_cpu_us_per_request"`
	BoundCPUUs   float64      `json:"bound_server_cpu_us_per_request"`
}

// phaseBound measures what binding tokens to a key costs sessiond per
// authenticated request: --bound-rounds rounds of --bound-requests GET
// /v1/me with the seeded Bearer sessions, each followed by as many with
// the seeded bound ones (Authorization: DPoP and a proof). Request i uses
// session i mod --me-concurrency. Proofs are the client's work: a bound
// round's are made before its CPU window opens, so sessiond's CPU is
// measured with as little of sgload's beside it as in an unbound round.
// Every proof must reach sessiond within dpop.Window of being made: a
// round slower than that fails with a clear message.
func (r *runner) phaseBound(ctx context.Context) (*boundResult, error) {
	n, conc := r.cfg.BoundRequests, r.cfg.MeConcurrency
	r.logf("bound: %d rounds of %d GET /v1/me unbound, then bound, on %d connections", r.cfg.BoundRounds, n, conc)
	ctx, cancel := r.phaseCtx(ctx)
	defer cancel()
	u := r.sd.URL + "/v1/me"
	res := &boundResult{Concurrency: conc, Requests: n}
	round := func(bound bool, n int) (boundRound, error) {
		out := boundRound{Bound: bound}
		var proofs []string
		if bound {
			t0 := time.Now()
			proofs = make([]string, n)
			err := parallel(ctx, n, runtime.NumCPU(), func(i int) error {
				s := r.data.Bound[i%len(r.data.Bound)]
				p, err := s.Key.Proof("GET", u, s.Token, time.Now())
				proofs[i] = p
				return err
			})
			if err != nil {
				return out, fmt.Errorf("making proofs: %w", err)
			}
			out.ProofsTook = time.Since(t0)
		}
		do := func(ctx context.Context, _, i int) error {
			h := http.Header{}
			if bound {
				h.Set("Authorization", dpop.Scheme+" "+r.data.Bound[i%len(r.data.Bound)].Token)
				h.Set(dpop.Header, proofs[i])
			} else {
				h.Set("Authorization", "Bearer "+r.data.Me[i%len(r.data.Me)].Token)
			}
			var me api.MeResponse
			if err := callWith(ctx, r.client, "GET", u, h, nil, &me); err != nil {
				return err
			}
			if me.Account.Username != userMe || me.Session.Bound != bound {
				return fmt.Errorf("GET /v1/me answered account %q, bound %v; want %q, bound %v",
					me.Account.Username, me.Session.Bound, userMe, bound)
			}
			return nil
		}
		cpu := startCPU(r.sd.Pid)
		lat, err := hammer(ctx, n, conc, do)
		out.CPU = cpu.stop()
		if err != nil {
			if bound && out.CPU.Wall+out.ProofsTook > dpop.Window {
				err = fmt.Errorf("%w (the round took %v, longer than a proof lives, %v: lower --bound-requests)",
					err, (out.CPU.Wall + out.ProofsTook).Round(time.Millisecond), dpop.Window)
			}
			return out, fmt.Errorf("%w (%d of %d done)", err, len(lat), n)
		}
		out.Latency = summarize(lat, out.CPU.Wall)
		out.ServerCPUUs = float64(out.CPU.Server.Microseconds()) / float64(n)
		return out, nil
	}
	// Warm-up: both kinds, so the first measured round finds the
	// connections open and the code paths hot.
	for _, bound := range []bool{false, true} {
		if _, err := round(bound, max(r.cfg.MeWarmup, conc)); err != nil {
			return nil, r.wrap(ctx, "bound warm-up", err)
		}
	}
	var sum [2]float64
	for i := range r.cfg.BoundRounds {
		for k, bound := range []bool{false, true} {
			rd, err := round(bound, n)
			if err != nil {
				return nil, r.wrap(ctx, fmt.Sprintf("bound round %d (bound %v)", i+1, bound), err)
			}
			res.Rounds = append(res.Rounds, rd)
			sum[k] += rd.ServerCPUUs
		}
	}
	res.UnboundCPUUs, res.BoundCPUUs = sum[0]/float64(r.cfg.BoundRounds), sum[1]/float64(r.cfg.BoundRounds)
	return res, nil
}
