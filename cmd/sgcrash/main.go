// Command sgcrash checks that sessiond loses nothing it acknowledged when it
// is killed, and leaves no action half done. For each store (SQLite file,
// PostgreSQL database) it builds and starts the real `sessiond serve` on a
// loopback port, signs accounts up, and drives concurrent sign-ins (some
// of them again on a device that saved its login), refreshes, reads,
// remote log-outs, log-outs (half of them saving the login) and log-outs
// of all other devices from several goroutines. After a random number of
// acknowledged actions, while requests are in flight, it kills sessiond
// with SIGKILL, restarts it on the same database, sends again about half
// the revokes the kill cut off (as a client would; the rest are abandoned,
// as by a client that gave up), and checks:
//
//   - every acknowledged sign-in still exists (its latest refresh token
//     works or answers session_revoked, never invalid_token);
//   - every acknowledged revoke (one device, own log out, or log out of all
//     others, which covers every session whose sign-in was acknowledged
//     before it was sent) is still in force: none of the session's access
//     or refresh tokens is accepted, then or at any later point;
//   - the latest acknowledged token pair of every other session works
//     (the access token may be superseded by a refresh the kill cut off);
//   - no superseded access token is accepted.
//
// It repeats this for several rounds, then reads each account's audit log
// and session list through the API and checks that every sign-in and
// revoke that took effect, acknowledged or cut by a kill, has its audit
// event (refreshes are not audited: the contract has no event for them),
// and finally that every saved login a remote log out of its device or a
// log out of all others removed is refused. It prints a summary and exits
// 1 on any violation.
//
// Usage:
//
//	go run ./cmd/sgcrash [--stores sqlite,postgres] [--rounds 4] [--seed N]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"sessionguard/cmd/internal/cli"
)

func main() {
	cli.Main(func(ctx context.Context) int { return run(ctx, os.Args[1:], os.Stdout, os.Stderr) })
}

// config is one invocation's settings.
type config struct {
	stores           []string
	rounds           int
	accounts         int
	workers          int
	killMin, killMax int // acknowledged actions in a round before its kill
	seed             uint64
	sessiond         string // prebuilt binary; empty: build one
	keep             bool
	timeout          time.Duration // per store
}

// run is the whole program, so tests can drive it in-process.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintf(stderr, "sgcrash: %v\n", err)
		return 2
	}
	fmt.Fprintf(stdout, "sgcrash: seed %d (rerun with --seed %d)\n", cfg.seed, cfg.seed)
	bin := cfg.sessiond
	if bin == "" {
		dir, err := os.MkdirTemp("", "sgcrash-bin-")
		if err != nil {
			fmt.Fprintf(stderr, "sgcrash: %v\n", err)
			return 1
		}
		defer os.RemoveAll(dir)
		if bin, err = cli.BuildSessiond(ctx, dir); err != nil {
			fmt.Fprintf(stderr, "sgcrash: %v\n", err)
			return 1
		}
	}
	failed := false
	for _, name := range cfg.stores {
		kind, _ := findStore(name)
		rep, err := runStore(ctx, cfg, kind, bin, stdout)
		if rep.store != "" {
			rep.print(stdout, stderr)
		}
		if err != nil {
			fmt.Fprintf(stderr, "sgcrash: %s: stopped: %v\n", name, err)
			failed = true
		}
		if len(rep.violations) > 0 {
			failed = true
		}
	}
	if failed {
		fmt.Fprintln(stderr, "sgcrash: FAILED")
		return 1
	}
	return 0
}

func parseFlags(args []string, stderr io.Writer) (config, error) {
	fs := flag.NewFlagSet("sgcrash", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var names []string
	for _, k := range storeKinds {
		names = append(names, k.name)
	}
	stores := fs.String("stores", strings.Join(names, ","), "comma-separated stores to run on: "+strings.Join(names, ", "))
	var cfg config
	fs.IntVar(&cfg.rounds, "rounds", 4, "kill/restart rounds per store")
	fs.IntVar(&cfg.accounts, "accounts", 3, "accounts")
	fs.IntVar(&cfg.workers, "workers", 6, "concurrent workers (spread over the accounts)")
	fs.IntVar(&cfg.killMin, "kill-min", 30, "least acknowledged actions in a round before its kill")
	fs.IntVar(&cfg.killMax, "kill-max", 90, "most acknowledged actions in a round before its kill")
	fs.Uint64Var(&cfg.seed, "seed", 0, "random seed (0: a random one, printed)")
	fs.StringVar(&cfg.sessiond, "sessiond", "", "sessiond binary to run (default: build sessionguard/cmd/sessiond)")
	fs.BoolVar(&cfg.keep, "keep", false, "keep each store's work directory (database, sessiond log)")
	fs.DurationVar(&cfg.timeout, "timeout", 3*time.Minute, "give up on a store after this long")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	if fs.NArg() > 0 {
		return cfg, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	for _, n := range strings.Split(*stores, ",") {
		if n = strings.TrimSpace(n); n == "" {
			continue
		}
		if _, ok := findStore(n); !ok {
			return cfg, fmt.Errorf("unknown store %q (have %s)", n, strings.Join(names, ", "))
		}
		cfg.stores = append(cfg.stores, n)
	}
	switch {
	case len(cfg.stores) == 0:
		return cfg, errors.New("--stores names no store")
	case cfg.rounds < 1 || cfg.accounts < 1 || cfg.workers < 1:
		return cfg, errors.New("--rounds, --accounts and --workers must be at least 1")
	case cfg.killMin < 1 || cfg.killMax < cfg.killMin:
		return cfg, errors.New("need 1 <= --kill-min <= --kill-max")
	}
	if cfg.seed == 0 {
		cfg.seed = rand.Uint64()>>1 | 1
	}
	return cfg, nil
}

// report is one store's outcome.
type report struct {
	store     string
	kills     int
	inflight  int64 // requests in flight at the kills
	unacked   map[string]int
	retried   int
	abandoned int
	// saved logins presented at the end: refused as they must be, working,
	// refused although no action the tool saw removed them
	savedGone, savedWorking, savedRefused int
	counts                                map[string]int
	total                                 int
	checks                                int
	orphans                               int
	violations                            []string
	warnings                              []string
	took                                  time.Duration
	logPath                               string
}

func (r report) print(stdout, stderr io.Writer) {
	var parts []string
	for _, k := range kinds {
		part := fmt.Sprintf("%d %s", r.counts[k], k)
		switch k {
		case kindSignIn:
			part += fmt.Sprintf(" (%d %s)", r.counts[kindResign], kindResign)
		case kindLogout:
			part += fmt.Sprintf(" (%d %s)", r.counts[kindSaved], kindSaved)
		}
		parts = append(parts, part)
	}
	unacked := 0
	for _, n := range r.unacked {
		unacked += n
	}
	fmt.Fprintf(stdout, "sgcrash: %s: %d kills in %.1f s; %d actions acknowledged (%s); %d requests in flight at the kills, %d never answered, %d cut revokes retried, %d abandoned; %d unacknowledged sign-ins persisted; saved logins at the end: %d removed as they must be, %d working, %d removed by cut requests\n",
		r.store, r.kills, r.took.Seconds(), r.total, strings.Join(parts, ", "), r.inflight, unacked, r.retried, r.abandoned, r.orphans,
		r.savedGone, r.savedWorking, r.savedRefused)
	for _, w := range r.warnings {
		fmt.Fprintf(stdout, "sgcrash: %s: warning: %s\n", r.store, w)
	}
	if len(r.violations) == 0 {
		fmt.Fprintf(stdout, "sgcrash: %s: OK: %d checks passed, no violation\n", r.store, r.checks)
		return
	}
	const most = 40
	for i, v := range r.violations {
		if i == most {
			fmt.Fprintf(stderr, "sgcrash: %s: … and %d more violations\n", r.store, len(r.violations)-most)
			break
		}
		fmt.Fprintf(stderr, "sgcrash: %s: VIOLATION: %s\n", r.store, v)
	}
	fmt.Fprintf(stderr, "sgcrash: %s: %d violations (%d checks passed); sessiond log: %s\n", r.store, len(r.violations), r.checks, r.logPath)
}

// runStore runs every round on one store.
func runStore(ctx context.Context, cfg config, kind storeKind, bin string, stdout io.Writer) (rep report, err error) {
	ctx, cancel := context.WithTimeout(ctx, cfg.timeout)
	defer cancel()
	started := time.Now()
	dir, err := os.MkdirTemp("", "sgcrash-"+kind.name+"-")
	if err != nil {
		return rep, err
	}
	if cfg.keep {
		fmt.Fprintf(stdout, "sgcrash: %s: work directory %s\n", kind.name, dir)
	} else {
		defer func() {
			if err == nil && len(rep.violations) == 0 {
				os.RemoveAll(dir)
			}
		}()
	}
	db, cleanup, err := kind.prepare(ctx, dir)
	if err != nil {
		return rep, fmt.Errorf("preparing the database: %w", err)
	}
	defer cleanup()
	logPath := filepath.Join(dir, "sessiond.log")
	d := &driver{l: newLedger(), unacked: map[string]int{}, revokeSent: make(chan struct{}, 1)}
	var f findings
	defer func() { rep = d.report(kind.name, logPath, rep, f, time.Since(started)) }()
	p, err := startSessiond(ctx, bin, db, logPath)
	if err != nil {
		return rep, err
	}
	defer func() {
		if p != nil {
			p.kill()
		}
	}()
	d.connect(p.url)
	defer d.hc.CloseIdleConnections()
	var accounts []string
	for i := range cfg.accounts {
		a := fmt.Sprintf("crash%d", i+1)
		if err := d.createAccount(ctx, a); err != nil {
			return rep, err
		}
		accounts = append(accounts, a)
	}

	for round := 1; round <= cfg.rounds; round++ {
		before := d.l.total()
		inflight := d.workload(ctx, cfg, round, accounts, p)
		p = nil
		if err := ctx.Err(); err != nil {
			return rep, fmt.Errorf("round %d: %w", round, err)
		}
		rep.kills++
		rep.inflight += inflight
		if p, err = startSessiond(ctx, bin, db, logPath); err != nil {
			return rep, fmt.Errorf("restart after kill %d: %w", round, err)
		}
		d.connect(p.url)
		retried, abandoned := d.retryPending(ctx, rand.New(rand.NewPCG(cfg.seed, uint64(round)<<32)))
		rep.retried += retried
		rep.abandoned += abandoned
		checksBefore := d.l.checks
		if err := d.checkAll(ctx); err != nil {
			return rep, err
		}
		fmt.Fprintf(stdout, "sgcrash: %s: round %d/%d: %d actions acknowledged, SIGKILL with %d requests in flight; restarted, %d cut revokes retried, %d abandoned, %d checks passed\n",
			kind.name, round, cfg.rounds, d.l.total()-before, inflight, retried, abandoned, d.l.checks-checksBefore)
	}

	events, live, err := d.collect(ctx, accounts)
	if err != nil {
		return rep, err
	}
	f = auditFindings(d.l.snapshot(), d.l.savedLogins(), events, live)
	// Last, as presenting a saved login signs a session in.
	restart := func() error {
		if err := p.stop(); err != nil {
			d.l.warn("%v", err)
		}
		next, err := startSessiond(ctx, bin, db, logPath)
		if err != nil {
			p = nil
			return fmt.Errorf("restart to reset the failed sign-in limit: %w", err)
		}
		p = next
		d.connect(p.url)
		return nil
	}
	if rep.savedGone, rep.savedWorking, rep.savedRefused, err = d.checkSaved(ctx, restart); err != nil {
		return rep, err
	}
	if err := p.stop(); err != nil {
		d.l.warn("%v", err)
	}
	p = nil
	return rep, nil
}

// report completes rep (kills, in-flight and retry counts) with the
// ledger's counts and findings and those of the audit check.
func (d *driver) report(store, logPath string, rep report, f findings, took time.Duration) report {
	d.l.mu.Lock()
	defer d.l.mu.Unlock()
	rep.store, rep.logPath, rep.took = store, logPath, took
	rep.counts, rep.unacked = d.l.counts, d.unacked
	rep.total = 0
	for _, k := range kinds {
		rep.total += d.l.counts[k]
	}
	rep.checks = d.l.checks + f.checks
	rep.orphans = f.orphans
	rep.violations = append(append([]string(nil), d.l.violations...), f.violations...)
	rep.warnings = append([]string(nil), d.l.warnings...)
	return rep
}

// connect points the driver at a (re)started sessiond.
func (d *driver) connect(url string) {
	if d.hc != nil {
		d.hc.CloseIdleConnections()
	}
	d.url = url
	d.hc = &http.Client{
		Transport: &http.Transport{MaxIdleConnsPerHost: 64},
		Timeout:   time.Minute,
	}
	d.stopping.Store(false)
}

// workload runs the workers on p until the round's kill, which it makes
// after a random number of acknowledged actions at a moment requests are
// in flight; it returns how many were.
func (d *driver) workload(ctx context.Context, cfg config, round int, accounts []string, p *proc) int64 {
	rng := rand.New(rand.NewPCG(cfg.seed, uint64(round)))
	target := int64(cfg.killMin + rng.IntN(cfg.killMax-cfg.killMin+1))
	var (
		acked    atomic.Int64
		reached  = make(chan struct{})
		once     sync.Once
		wg       sync.WaitGroup
		inflight int64
	)
	for w := range cfg.workers {
		wrng := rand.New(rand.NewPCG(cfg.seed, uint64(round)<<16|uint64(w)))
		acct := accounts[w%len(accounts)]
		wg.Go(func() {
			for !d.stopping.Load() && ctx.Err() == nil {
				if d.step(ctx, wrng, acct) && acked.Add(1) >= target {
					once.Do(func() { close(reached) })
				}
			}
		})
	}
	// The killer: once enough actions were acknowledged, wait for a moment
	// some request is in flight, then SIGKILL. Every other round aims at a
	// revoke instead: the kill lands a random 0–800 µs after a revoke request
	// left, where its writes (revoke, saved logins, audit event) happen.
	select {
	case <-reached:
	case <-ctx.Done():
	}
	if round%2 == 0 {
		select {
		case <-d.revokeSent: // an old one
		default:
		}
		select {
		case <-d.revokeSent:
			delay, t0 := time.Duration(rng.IntN(800))*time.Microsecond, time.Now()
			for time.Since(t0) < delay { // a sleep is not that precise
			}
		case <-ctx.Done():
		}
	}
	for d.inflight.Load() == 0 && ctx.Err() == nil {
		time.Sleep(50 * time.Microsecond)
	}
	d.stopping.Store(true)
	inflight = d.inflight.Load()
	p.kill()
	wg.Wait()
	return inflight
}
