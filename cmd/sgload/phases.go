//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"sessionguard/api"
	"sessionguard/server/passwd"
)

// runner holds what every phase of one back end's run needs.
type runner struct {
	cfg    *config
	sd     *sessiond
	client *http.Client
	data   *seeded
	logf   func(format string, args ...any)
	// floodSeq numbers the flood's sign-ins: each gets its own address
	// and, for unknown usernames, its own name.
	floodSeq atomic.Int64
}

// phaseCtx bounds a phase by the configured deadline; errors mention name.
func (r *runner) phaseCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, r.cfg.PhaseTimeout)
}

// timedOut turns a context deadline into a clear message.
func (r *runner) timedOut(ctx context.Context, phase string, done, total int) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s: timed out after %v with %d of %d done", phase, r.cfg.PhaseTimeout, done, total)
	}
	return ctx.Err()
}

// memSample is sessiond's memory at one moment.
type memSample struct {
	RSS        int64   `json:"rss"`
	HWM        int64   `json:"hwm"`
	HeapInuse  float64 `json:"heap_inuse"`
	StackInuse float64 `json:"stack_inuse"`
	GoSys      float64 `json:"go_sys"`
	Goroutines float64 `json:"goroutines"`
	Streams    float64 `json:"streams"`
	// HeapUnused is heap memory the Go runtime holds but neither uses nor
	// has returned to the OS (heap idle - released): part of RSS.
	HeapUnused float64 `json:"heap_unused"`
	// Runtime is the rest of what the Go runtime took from the OS for
	// itself: GC metadata, spans, caches, buckets and so on.
	Runtime float64 `json:"runtime_other"`
}

func (r *runner) memory(ctx context.Context) (memSample, error) {
	p, err := r.sd.proc()
	if err != nil {
		return memSample{}, err
	}
	m, err := r.sd.metrics(ctx, r.client)
	if err != nil {
		return memSample{}, err
	}
	return memSample{RSS: p.RSS, HWM: p.HWM, HeapInuse: m["go_memstats_heap_inuse_bytes"],
		StackInuse: m["go_memstats_stack_inuse_bytes"], GoSys: m["go_memstats_sys_bytes"],
		Goroutines: m["go_goroutines"], Streams: m["sessiond_event_streams"],
		HeapUnused: m["go_memstats_heap_idle_bytes"] - m["go_memstats_heap_released_bytes"],
		Runtime: m["go_memstats_gc_sys_bytes"] + m["go_memstats_mspan_sys_bytes"] + m["go_memstats_mcache_sys_bytes"] +
			m["go_memstats_buck_hash_sys_bytes"] + m["go_memstats_other_sys_bytes"]}, nil
}

// rssPeak samples sessiond's RSS every 100 ms until stopped.
type rssPeak struct {
	stop chan struct{}
	done chan struct{}
	max  int64
}

func watchRSS(pid int) *rssPeak {
	w := &rssPeak{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if p, err := readProc(pid); err == nil {
				w.max = max(w.max, p.RSS)
			}
			select {
			case <-w.stop:
				return
			case <-t.C:
			}
		}
	}()
	return w
}

func (w *rssPeak) Stop() int64 { close(w.stop); <-w.done; return w.max }

// meResult is the authenticated-request phase.
type meResult struct {
	Concurrency int     `json:"concurrency"`
	Latency     dist    `json:"latency"`
	CPU         cpuUse  `json:"cpu"`
	PeakRSS     int64   `json:"peak_rss"`
	ServerCPUUs float64 `json:"server_cpu_us_per_request"`
}

// hammer runs n requests on conc workers; do gets the worker and request
// number. It returns every request's latency.
func hammer(ctx context.Context, n, conc int, do func(ctx context.Context, worker, i int) error) ([]time.Duration, error) {
	var (
		next  atomic.Int64
		mu    sync.Mutex
		lat   = make([]time.Duration, 0, n)
		first error
		once  sync.Once
		wg    sync.WaitGroup
	)
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			mine := make([]time.Duration, 0, n/conc+1)
			defer func() { mu.Lock(); lat = append(lat, mine...); mu.Unlock() }()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				t0 := time.Now()
				if err := do(ctx, w, i); err != nil {
					once.Do(func() { first = err; cancel() })
					return
				}
				mine = append(mine, time.Since(t0))
			}
		}()
	}
	wg.Wait()
	return lat, first
}

func (r *runner) phaseMe(ctx context.Context) (*meResult, error) {
	n, conc := r.cfg.MeRequests, r.cfg.MeConcurrency
	r.logf("GET /v1/me: %d requests (after %d warm-up) on %d connections", n, r.cfg.MeWarmup, conc)
	ctx, cancel := r.phaseCtx(ctx)
	defer cancel()
	u := r.sd.URL + "/v1/me"
	do := func(ctx context.Context, w, _ int) error {
		var me api.MeResponse
		if err := call(ctx, r.client, "GET", u, r.data.Me[w%len(r.data.Me)].Token, nil, &me); err != nil {
			return err
		}
		if me.Account.Username != userMe {
			return fmt.Errorf("GET /v1/me answered account %q, want %q", me.Account.Username, userMe)
		}
		return nil
	}
	if _, err := hammer(ctx, r.cfg.MeWarmup, conc, do); err != nil {
		return nil, r.wrap(ctx, "GET /v1/me warm-up", err)
	}
	peak := watchRSS(r.sd.Pid)
	cpu := startCPU(r.sd.Pid)
	lat, err := hammer(ctx, n, conc, do)
	use := cpu.stop()
	res := &meResult{Concurrency: conc, CPU: use, PeakRSS: peak.Stop()}
	if err != nil {
		return nil, r.wrap(ctx, "GET /v1/me", fmt.Errorf("%w (%d of %d done)", err, len(lat), n))
	}
	res.Latency = summarize(lat, use.Wall)
	res.ServerCPUUs = float64(use.Server.Microseconds()) / float64(n)
	return res, nil
}

// wrap names the phase in err, and says so plainly when it ran out of time.
func (r *runner) wrap(ctx context.Context, phase string, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("%s: timed out after %v: %w", phase, r.cfg.PhaseTimeout, err)
	}
	return fmt.Errorf("%s: %w", phase, err)
}

// pageResult is repeated requests for one page of a list, and a walk
// through all its pages.
type pageResult struct {
	Request   string        `json:"request"`
	Items     int           `json:"items"` // per page
	Latency   dist          `json:"latency"`
	WalkLimit int           `json:"walk_limit"`
	WalkPages int           `json:"walk_pages"`
	WalkItems int           `json:"walk_items"`
	WalkTook  time.Duration `json:"walk_took_ns"`
}

func (r *runner) phasePages(ctx context.Context) ([]pageResult, error) {
	ctx, cancel := r.phaseCtx(ctx)
	defer cancel()
	var out []pageResult
	type list struct {
		path  string
		total int
		items func(body *listPage) int
	}
	lists := []list{
		{"/v1/sessions", r.cfg.ListSessions, func(p *listPage) int { return len(p.Sessions) }},
		{"/v1/audit", r.cfg.AuditEvents, func(p *listPage) int { return len(p.Events) }},
	}
	for _, l := range lists {
		for _, limit := range []int{50, 200} {
			req := fmt.Sprintf("GET %s?limit=%d", l.path, limit)
			want := min(limit, l.total)
			r.logf("%s: %d times (first page of %d)", req, r.cfg.PageRepeats, l.total)
			u := fmt.Sprintf("%s%s?limit=%d", r.sd.URL, l.path, limit)
			start := time.Now()
			lat, err := hammer(ctx, r.cfg.PageRepeats, 1, func(ctx context.Context, _, _ int) error {
				var p listPage
				if err := call(ctx, r.client, "GET", u, r.data.Big.Token, nil, &p); err != nil {
					return err
				}
				if got := l.items(&p); got != want {
					return fmt.Errorf("%s gave %d items, want %d", req, got, want)
				}
				return nil
			})
			if err != nil {
				return nil, r.wrap(ctx, req, err)
			}
			out = append(out, pageResult{Request: req, Items: want, Latency: summarize(lat, time.Since(start))})
		}
		// Walk every page at the largest size and count.
		pr := &out[len(out)-1]
		pr.WalkLimit = 200
		start := time.Now()
		cursor := ""
		for {
			if ctx.Err() != nil {
				return nil, r.timedOut(ctx, "walking "+l.path, pr.WalkItems, l.total)
			}
			u := fmt.Sprintf("%s%s?limit=200", r.sd.URL, l.path)
			if cursor != "" {
				u += "&cursor=" + url.QueryEscape(cursor)
			}
			var p listPage
			if err := call(ctx, r.client, "GET", u, r.data.Big.Token, nil, &p); err != nil {
				return nil, r.wrap(ctx, "walking "+l.path, err)
			}
			pr.WalkPages++
			pr.WalkItems += l.items(&p)
			if p.NextCursor == "" {
				break
			}
			cursor = p.NextCursor
		}
		pr.WalkTook = time.Since(start)
		if pr.WalkItems != l.total {
			return nil, fmt.Errorf("walking %s: %d items in %d pages, want %d", l.path, pr.WalkItems, pr.WalkPages, l.total)
		}
	}
	return out, nil
}

// listPage decodes either list answer.
type listPage struct {
	Sessions   []api.Session    `json:"sessions"`
	Events     []api.AuditEvent `json:"events"`
	NextCursor string           `json:"next_cursor"`
}

// streamLevel is the figures with Streams event streams connected.
type streamLevel struct {
	Streams   int           `json:"streams"`
	Opened    int           `json:"opened"` // opened to reach this level
	OpenTook  time.Duration `json:"open_took_ns"`
	Mem       memSample     `json:"mem"`
	PerStream float64       `json:"rss_per_stream"`  // bytes
	HeapPer   float64       `json:"heap_per_stream"` // heap + stacks, bytes
	// Steady is a second reading after --steady (last level only).
	Steady        *memSample `json:"steady,omitempty"`
	SteadyPer     float64    `json:"steady_rss_per_stream"`
	SteadyHeapPer float64    `json:"steady_heap_per_stream"`
	Revoke        dist       `json:"revoke_to_event"`  // DELETE start → event line read
	DeleteRT      dist       `json:"delete_roundtrip"` // DELETE start → 200 read
	ClosedAfter   int        `json:"closed_after_revoke"`
	// Receipt is DELETE start → the device's receipt answered (204 read):
	// the device sends POST /v1/closures the moment session.revoked's
	// data line arrives. ReceiptAlone is that event → 204 alone.
	Receipt      dist `json:"revoke_to_receipt"`
	ReceiptAlone dist `json:"event_to_receipt"`
	// Burst is --receipt-burst accounts logging their other devices out
	// at the same moment, every device confirming at once.
	Burst *burstResult `json:"receipt_burst,omitempty"`
}

// burstResult is a receipt burst: Accounts controllers send DELETE
// /v1/sessions?scope=others&erase=true at the same moment, and each of
// their Devices sends its receipt the moment its event arrives.
// Latency is, per device, its controller's DELETE start → its receipt
// answered; Took is the first DELETE start → the last receipt answered.
type burstResult struct {
	Accounts int           `json:"accounts"`
	Devices  int           `json:"devices"`
	Latency  dist          `json:"latency"`
	Took     time.Duration `json:"took_ns"`
}

// streamSet is the streams open now.
type streamSet struct {
	open []*stream
	next int // index of the next unused stream session
}

func (s *streamSet) closeAll() {
	var wg sync.WaitGroup
	for _, st := range s.open {
		wg.Add(1)
		go func() { defer wg.Done(); st.Close() }()
	}
	wg.Wait()
	s.open = nil
}

func (r *runner) phaseStreams(ctx context.Context, base memSample) ([]streamLevel, error) {
	set := &streamSet{}
	defer set.closeAll()
	rng := rand.New(rand.NewPCG(6, 6))
	var out []streamLevel
	for _, level := range r.cfg.Levels {
		lv, err := r.streamLevel(ctx, set, level, base, rng)
		if err != nil {
			return nil, err
		}
		out = append(out, *lv)
	}
	return out, nil
}

func (r *runner) streamLevel(ctx context.Context, set *streamSet, level int, base memSample, rng *rand.Rand) (*streamLevel, error) {
	ctx, cancel := r.phaseCtx(ctx)
	defer cancel()
	lv := &streamLevel{Streams: level}
	need := level - len(set.open)
	if set.next+need > len(r.data.Streams) {
		return nil, fmt.Errorf("streams: %d more needed but only %d seeded sessions left", need, len(r.data.Streams)-set.next)
	}
	r.logf("streams: opening %d (to %d open) with %d at a time", need, level, r.cfg.OpenConcurrency)
	start := time.Now()
	opened := make([]*stream, need)
	sessions := r.data.Streams[set.next : set.next+need]
	set.next += need
	_, err := hammer(ctx, need, r.cfg.OpenConcurrency, func(ctx context.Context, _, i int) error {
		s, err := openStream(ctx, r.sd.Addr, sessions[i], 30*time.Second, r.confirmClosure)
		opened[i] = s
		return err
	})
	for _, s := range opened {
		if s != nil {
			set.open = append(set.open, s)
		}
	}
	if err != nil {
		return nil, r.wrap(ctx, fmt.Sprintf("opening streams (%d of %d open)", len(set.open), level), err)
	}
	lv.Opened, lv.OpenTook = need, time.Since(start)
	r.logf("streams: %d open after %v; letting sessiond settle %v", level, lv.OpenTook.Round(time.Millisecond), r.cfg.Settle)
	select {
	case <-time.After(r.cfg.Settle):
	case <-ctx.Done():
		return nil, r.timedOut(ctx, "streams", level, level)
	}
	if lv.Mem, err = r.memory(ctx); err != nil {
		return nil, err
	}
	if int(lv.Mem.Streams) != level {
		return nil, fmt.Errorf("streams: sessiond counts %v open streams, want %d", lv.Mem.Streams, level)
	}
	lv.PerStream = float64(lv.Mem.RSS-base.RSS) / float64(level)
	lv.HeapPer = (lv.Mem.HeapInuse + lv.Mem.StackInuse - base.HeapInuse - base.StackInuse) / float64(level)
	if last := r.cfg.Levels[len(r.cfg.Levels)-1]; level == last && r.cfg.Steady > 0 {
		r.logf("streams: %d open; reading memory again in %v", level, r.cfg.Steady)
		select {
		case <-time.After(r.cfg.Steady):
		case <-ctx.Done():
			return nil, r.timedOut(ctx, "streams (steady memory)", level, level)
		}
		m, err := r.memory(ctx)
		if err != nil {
			return nil, err
		}
		if int(m.Streams) != level {
			return nil, fmt.Errorf("streams: after %v sessiond counts %v open streams, want %d", r.cfg.Steady, m.Streams, level)
		}
		lv.Steady = &m
		lv.SteadyPer = float64(m.RSS-base.RSS) / float64(level)
		lv.SteadyHeapPer = (m.HeapInuse + m.StackInuse - base.HeapInuse - base.StackInuse) / float64(level)
	}

	// Revoke a random sample one by one, each from its account's
	// controller, asking the device to erase; each device sends its
	// receipt the moment its event arrives.
	// The accounts of the receipt burst are set aside first: none of
	// their streams is revoked one by one.
	burst, err := r.burstAccounts(set, r.cfg.ReceiptBurst)
	if err != nil {
		return nil, err
	}
	var pool []int // indexes in set.open of the streams the sample is drawn from
	for i, s := range set.open {
		if !burst[s.sess.AccountID] {
			pool = append(pool, i)
		}
	}
	n := min(r.cfg.Revokes, len(pool))
	r.logf("streams: revoking %d of %d, one at a time, each device confirming at once", n, level)
	perm := make([]int, n)
	for k, j := range rng.Perm(len(pool))[:n] {
		perm[k] = pool[j]
	}
	victims := make(map[*stream]bool, n)
	var lat, rt, receipt, alone []time.Duration
	for k, idx := range perm {
		s := set.open[idx]
		ctrl, ok := r.data.Controllers[s.sess.AccountID]
		if !ok {
			return nil, fmt.Errorf("streams: no controller for account %s", s.sess.AccountID)
		}
		t0 := time.Now()
		var resp api.RevokeSessionResponse
		if err := call(ctx, r.client, "DELETE", r.sd.URL+"/v1/sessions/"+s.sess.ID+"?erase=true", ctrl.Token, nil, &resp); err != nil {
			return nil, r.wrap(ctx, fmt.Sprintf("revoke %d of %d", k+1, n), err)
		}
		rt = append(rt, time.Since(t0))
		if resp.Session.RevokedAt == nil || resp.Session.Closure == nil || !resp.Session.Closure.EraseRequested {
			return nil, fmt.Errorf("revoke %d of %d: DELETE answered a session that is not revoked with erase", k+1, n)
		}
		select {
		case <-s.revoked:
		case <-s.closed:
			if !s.isRevoked() { // revoked is closed before closed when the event came
				return nil, fmt.Errorf("revoke %d of %d: the stream of %s closed without session.revoked (%v)", k+1, n, s.sess.ID, s.readErr)
			}
		case <-ctx.Done():
			return nil, r.timedOut(ctx, "waiting for session.revoked", k, n)
		}
		lat = append(lat, s.revokedAt.Sub(t0))
		select {
		case <-s.closed:
			if s.readErr != nil {
				return nil, fmt.Errorf("revoke %d of %d: the stream of %s failed instead of ending: %v", k+1, n, s.sess.ID, s.readErr)
			}
			lv.ClosedAfter++
		case <-ctx.Done():
			return nil, r.timedOut(ctx, "waiting for the revoked stream to close", k, n)
		}
		select {
		case <-s.receipt:
			if s.receiptErr != nil {
				return nil, fmt.Errorf("revoke %d of %d: the receipt of %s: %w", k+1, n, s.sess.ID, s.receiptErr)
			}
		case <-ctx.Done():
			return nil, r.timedOut(ctx, "waiting for the device's receipt", k, n)
		}
		receipt = append(receipt, s.receiptAt.Sub(t0))
		alone = append(alone, s.receiptAt.Sub(s.revokedAt))
		victims[s] = true
	}
	lv.Revoke = summarize(lat, 0)
	lv.DeleteRT = summarize(rt, 0)
	lv.Receipt = summarize(receipt, 0)
	lv.ReceiptAlone = summarize(alone, 0)
	keep := set.open[:0]
	for _, s := range set.open {
		if victims[s] {
			continue
		}
		if s.isRevoked() || s.isClosed() {
			return nil, fmt.Errorf("streams: the stream of %s, not revoked, ended or got session.revoked (%v)", s.sess.ID, s.readErr)
		}
		keep = append(keep, s)
	}
	set.open = keep
	if len(burst) > 0 {
		if lv.Burst, err = r.receiptBurst(ctx, set, burst); err != nil {
			return nil, err
		}
	}
	return lv, nil
}

// burstAccounts picks the first n accounts all of whose stream sessions
// have their streams open.
func (r *runner) burstAccounts(set *streamSet, n int) (map[string]bool, error) {
	per := r.cfg.StreamsPerAccount
	count := map[string]int{}
	var order []string
	for _, s := range set.open {
		a := s.sess.AccountID
		if count[a] == 0 {
			order = append(order, a)
		}
		count[a]++
	}
	picked := map[string]bool{}
	for _, a := range order {
		if len(picked) < n && count[a] == per {
			picked[a] = true
		}
	}
	if len(picked) < n {
		return nil, fmt.Errorf("receipt burst: only %d accounts have all %d streams open, want %d", len(picked), per, n)
	}
	return picked, nil
}

// receiptBurst has the controllers of the accounts picked log their
// other devices out at the same moment, waits for every device's receipt
// (each sends it the moment its event arrives) and takes those streams
// out of set.
func (r *runner) receiptBurst(ctx context.Context, set *streamSet, accounts map[string]bool) (*burstResult, error) {
	per, n := r.cfg.StreamsPerAccount, len(accounts)
	byAcct := map[string][]*stream{}
	var picked []string
	for _, s := range set.open {
		a := s.sess.AccountID
		if !accounts[a] {
			continue
		}
		if len(byAcct[a]) == 0 {
			picked = append(picked, a)
		}
		byAcct[a] = append(byAcct[a], s)
	}
	r.logf("streams: %d accounts log out their other devices at once (%d devices, each confirming at once)", n, n*per)
	starts := make([]time.Time, n)
	gate := make(chan struct{})
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i, a := range picked {
		ctrl := r.data.Controllers[a]
		wg.Go(func() {
			<-gate
			starts[i] = time.Now()
			var c api.RevokedCount
			err := call(ctx, r.client, "DELETE", r.sd.URL+"/v1/sessions?scope=others&erase=true", ctrl.Token, nil, &c)
			if err == nil && c.Revoked != per {
				err = fmt.Errorf("revoked %d sessions, want %d", c.Revoked, per)
			}
			if err != nil {
				errs <- fmt.Errorf("receipt burst: the controller of %s: %w", a, err)
			}
		})
	}
	close(gate)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		return nil, err
	}
	lat := make([]time.Duration, 0, n*per)
	var last time.Time
	gone := map[*stream]bool{}
	for i, a := range picked {
		for _, s := range byAcct[a] {
			select {
			case <-s.receipt:
				if s.receiptErr != nil {
					return nil, fmt.Errorf("receipt burst: the receipt of %s: %w", s.sess.ID, s.receiptErr)
				}
			case <-ctx.Done():
				return nil, r.timedOut(ctx, "waiting for the burst's receipts", len(lat), n*per)
			}
			lat = append(lat, s.receiptAt.Sub(starts[i]))
			if s.receiptAt.After(last) {
				last = s.receiptAt
			}
			select {
			case <-s.closed:
			case <-ctx.Done():
				return nil, r.timedOut(ctx, "waiting for the burst's streams to close", len(lat), n*per)
			}
			gone[s] = true
		}
	}
	first := slices.MinFunc(starts, time.Time.Compare)
	keep := set.open[:0]
	for _, s := range set.open {
		if !gone[s] {
			keep = append(keep, s)
		}
	}
	set.open = keep
	return &burstResult{Accounts: n, Devices: n * per, Latency: summarize(lat, last.Sub(first)), Took: last.Sub(first)}, nil
}

// confirmClosure is a revoked device's receipt (POST /v1/closures, no
// bearer token), sent with the token of its session.revoked: it says it
// erased its data, as asked.
func (r *runner) confirmClosure(closureToken string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return call(ctx, r.client, "POST", r.sd.URL+"/v1/closures", "", api.ClosureRequest{ClosureToken: closureToken, Erased: true}, nil)
}

// loginResult is the sign-in phase.
type loginResult struct {
	Concurrency int           `json:"concurrency"`
	Latency     dist          `json:"latency"`
	CPU         cpuUse        `json:"cpu"`
	PerLogin    time.Duration `json:"server_cpu_per_login_ns"`
	Argon2      time.Duration `json:"argon2id_verify_cpu_ns"` // CPU of one Verify in this process
	PeakRSS     int64         `json:"peak_rss"`
}

func (r *runner) phaseLogin(ctx context.Context) (*loginResult, error) {
	n, conc := r.cfg.Logins, r.cfg.LoginConcurrency
	ctx, cancel := r.phaseCtx(ctx)
	defer cancel()
	res := &loginResult{Concurrency: conc}
	// argon2id alone, here, while sessiond is idle: the floor of a sign-in,
	// as CPU time of this process (its other goroutines are idle now), so
	// other work on the machine does not inflate it.
	const verifies = 5
	cpu0 := selfCPU()
	for range verifies {
		ok, err := passwd.Hasher{}.Verify(loadPassword, r.cfg.passwordHash)
		if err != nil || !ok {
			return nil, fmt.Errorf("argon2id check of the load password: %v %v", ok, err)
		}
	}
	res.Argon2 = (selfCPU() - cpu0) / verifies
	r.logf("POST /v1/login: %d sign-ins, %d at a time (argon2id alone: %v of CPU)", n, conc, res.Argon2.Round(time.Millisecond))
	peak := watchRSS(r.sd.Pid)
	cpu := startCPU(r.sd.Pid)
	lat, err := hammer(ctx, n, conc, func(ctx context.Context, w, i int) error {
		body := api.LoginRequest{Username: r.data.LoginUser, Password: loadPassword,
			Device: api.Device{ID: fmt.Sprintf("dev_login_%d", i), Name: "Sign-in load", Platform: api.PlatformLinux}}
		var l api.Login
		if err := call(ctx, r.client, "POST", r.sd.URL+"/v1/login", "", body, &l); err != nil {
			return err
		}
		if l.AccessToken == "" {
			return errors.New("POST /v1/login answered no access token")
		}
		return nil
	})
	res.CPU = cpu.stop()
	res.PeakRSS = peak.Stop()
	if err != nil {
		return nil, r.wrap(ctx, "POST /v1/login", fmt.Errorf("%w (%d of %d done)", err, len(lat), n))
	}
	res.Latency = summarize(lat, res.CPU.Wall)
	res.PerLogin = res.CPU.Server / time.Duration(n)
	return res, nil
}
