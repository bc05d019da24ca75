//go:build linux

package main

import (
	"flag"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"
)

// loadPassword is the password of every seeded account.
const loadPassword = "sgload-correct-horse-battery-staple"

// config is sgload's command line.
type config struct {
	Backends    []string
	Sessiond    string
	PostgresURL string

	MeRequests, MeConcurrency, MeWarmup int
	// The bound phase: BoundRounds rounds of BoundRequests GET /v1/me with
	// Bearer tokens, each followed by as many with DPoP-bound tokens.
	BoundRequests, BoundRounds             int
	ListSessions, AuditEvents, PageRepeats int
	Levels                                 []int
	StreamsPerAccount, Revokes             int
	// ReceiptBurst is how many accounts, at each level, log their other
	// devices out at the same moment, every device confirming at once.
	ReceiptBurst             int
	OpenConcurrency          int
	Logins, LoginConcurrency int
	SeedWorkers              int

	// Phases are the phases to run (phaseNames order); the others are
	// skipped, and so is seeding only they need.
	Phases map[string]bool

	// The sign-in flood: FloodWorkers bad sign-ins at a time for
	// FloodDuration per kind, while FloodMeWorkers send GET /v1/me at
	// FloodMeRate a second in all (and as long again before, unflooded).
	FloodWorkers, FloodMeWorkers, FloodAccounts int
	FloodMeRate                                 float64
	FloodDuration                               time.Duration
	FloodKinds                                  []string
	FloodMax                                    int

	// Acknowledged writes: Writes refresh rotations and as many remote log
	// outs on WriteConcurrency workers, per SQLite synchronous mode, rounds
	// times.
	Writes, WriteConcurrency, WriteRounds int
	SyncModes                             []string

	// The sweep: SweepSessions sessions under a rule, SweepDue of them
	// made due at once for each measured sweep, sessiond sweeping every
	// SweepEvery.
	SweepSessions int
	SweepDue      []int
	SweepEvery    time.Duration

	PhaseTimeout time.Duration
	Settle       time.Duration
	Steady       time.Duration
	Out, JSON    string
	ServerLogDir string
	ServerEnv    []string
	ServerArgs   []string

	passwordHash string // argon2id (OWASP) of loadPassword, made once
}

const usage = `sgload — load and latency figures for sessiond (docs/PERFORMANCE.md)

Usage: sgload [flags]

It seeds a fresh database through the store package, starts sessiond on a
loopback port as a child process, and measures: GET /v1/me throughput and
latency, sessiond's CPU per GET /v1/me with Bearer tokens against
DPoP-bound tokens (each request with a fresh proof, made before its round
starts), the first page of /v1/sessions and /v1/audit on a large account,
revoke → session.revoked on open event streams at each --streams level
(with sessiond's RSS and Go heap) and revoke → the device's receipt
(POST /v1/closures, sent the moment the event arrives), and sign-in
(argon2id) cost. It prints a
Markdown report. Then a sign-in flood (--flood-workers bad sign-ins at
once from many addresses, GET /v1/me latency with and without it) and
acknowledged writes (refresh rotations and remote log outs, on SQLite once
per --sqlite-synchronous mode, each on a sessiond of its own), and the
inactivity sweeper's cost with --sweep-sessions sessions under a rule
(with request latency during its sweeps, on a sessiond of its own). Every phase
has a count and a deadline (--phase-timeout); any error or timeout exits
with status 1.

Flags:
`

func parseConfig(args []string, stderr io.Writer) (*config, error) {
	c := &config{}
	fs := flag.NewFlagSet("sgload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	backends := fs.String("db", "sqlite", "stores to measure, comma-separated: sqlite, postgres")
	fs.StringVar(&c.Sessiond, "sessiond", "", "sessiond binary (default: go build ./cmd/sessiond into a temporary directory)")
	fs.StringVar(&c.PostgresURL, "postgres-url", "", "superuser URL of a PostgreSQL server to create the database on (default: a throwaway cluster, fsync on)")
	fs.IntVar(&c.MeRequests, "me-requests", 30000, "GET /v1/me requests measured")
	fs.IntVar(&c.MeConcurrency, "me-concurrency", 16, "parallel connections for GET /v1/me (each its own session)")
	fs.IntVar(&c.MeWarmup, "me-warmup", 1000, "GET /v1/me requests before measuring")
	fs.IntVar(&c.BoundRequests, "bound-requests", 20000, "bound phase: GET /v1/me requests per round, on --me-concurrency connections (a bound round must end within the 60 s a DPoP proof lives)")
	fs.IntVar(&c.BoundRounds, "bound-rounds", 3, "bound phase: rounds, each one of unbound then one of bound requests")
	fs.IntVar(&c.ListSessions, "list-sessions", 10000, "live sessions of the account whose session list is paged")
	fs.IntVar(&c.AuditEvents, "audit-events", 100000, "audit events of that account")
	fs.IntVar(&c.PageRepeats, "page-repeats", 100, "requests per first-page measurement")
	levels := fs.String("streams", "1000,10000", "connected event streams to measure at, ascending, comma-separated")
	fs.IntVar(&c.StreamsPerAccount, "streams-per-account", 5, "streams per account (each account also has one session that revokes)")
	fs.IntVar(&c.Revokes, "revokes", 300, "streams revoked one by one at each level")
	fs.IntVar(&c.ReceiptBurst, "receipt-burst", 20, "at each level, after the revokes one by one, this many accounts log all their other devices out at the same moment (DELETE /v1/sessions?scope=others&erase=true), every device sending its receipt at once; 0: skip")
	fs.IntVar(&c.OpenConcurrency, "open-concurrency", 64, "streams opened in parallel")
	fs.IntVar(&c.Logins, "logins", 40, "sign-ins (POST /v1/login, argon2id)")
	fs.IntVar(&c.LoginConcurrency, "login-concurrency", 4, "parallel sign-ins")
	fs.IntVar(&c.SeedWorkers, "seed-workers", 8, "parallel store writes while seeding")
	phases := fs.String("phases", strings.Join(phaseNames, ","), "phases to run, comma-separated, of: "+strings.Join(phaseNames, ", "))
	fs.IntVar(&c.FloodWorkers, "flood-workers", 50, "bad sign-ins in flight at once during the flood (sessiond gets --trusted-proxy 127.0.0.1/32; each attempt comes from its own X-Forwarded-For address in 198.18.0.0/15)")
	fs.DurationVar(&c.FloodDuration, "flood-duration", 20*time.Second, "how long each flood kind lasts (the unflooded GET /v1/me baseline lasts as long)")
	kinds := fs.String("flood-kinds", "unknown,accounts", "bad sign-ins to flood with, comma-separated: unknown (a new unknown username each time: a dummy hash) and accounts (wrong passwords spread over --flood-accounts seeded accounts: a hash and an audit write)")
	fs.IntVar(&c.FloodAccounts, "flood-accounts", 1000, "accounts the accounts flood spreads over (each takes 100 failures from strangers per 15 min before 429)")
	fs.IntVar(&c.FloodMax, "flood-max", 20000, "at most this many sign-ins per flood kind, whatever the duration")
	fs.IntVar(&c.FloodMeWorkers, "flood-me-workers", 4, "connections sending GET /v1/me during the baseline and the flood (at most --me-concurrency)")
	fs.Float64Var(&c.FloodMeRate, "flood-me-rate", 200, "GET /v1/me per second over those connections, paced")
	fs.IntVar(&c.Writes, "writes", 2000, "refresh rotations, and as many remote log outs, per synchronous mode and round")
	fs.IntVar(&c.WriteConcurrency, "write-concurrency", 8, "parallel writers (each its own account)")
	fs.IntVar(&c.WriteRounds, "write-rounds", 2, "times each synchronous mode is measured, alternating")
	modes := fs.String("sqlite-synchronous", "full,normal", "SQLite synchronous modes the writes phase compares (sessiond serve --sqlite-synchronous), comma-separated: full, normal")
	fs.IntVar(&c.SweepSessions, "sweep-sessions", 100000, "sessions under an inactivity rule (5 per account, every account's rule 24 hours) for the sweep phase")
	sweepDue := fs.String("sweep-due", "1000,10000", "for each, that many of those sessions made due at once and ended by the sweeper, comma-separated")
	fs.DurationVar(&c.SweepEvery, "sweep-every", 5*time.Second, "sessiond serve --idle-sweep-every in the sweep phase (the default is 30s; one sweep costs the same)")
	fs.DurationVar(&c.PhaseTimeout, "phase-timeout", 5*time.Minute, "deadline of each phase (seeding included)")
	fs.DurationVar(&c.Settle, "settle", 2*time.Second, "pause before a memory reading")
	fs.DurationVar(&c.Steady, "steady", 130*time.Second, "at the last --streams level, read memory again after this long (past the Go runtime's 2-minute periodic GC, which shrinks stacks); 0: skip")
	fs.StringVar(&c.Out, "out", "", "write the Markdown report here instead of standard output")
	fs.StringVar(&c.JSON, "json", "", "also write the raw results as JSON here")
	fs.StringVar(&c.ServerLogDir, "server-log-dir", "", "keep sessiond's log as sessiond-STORE.log in this directory")
	fs.Func("server-env", "NAME=VALUE for sessiond's environment, e.g. GOMEMLIMIT=64MiB (repeatable; GOGC, GOMEMLIMIT, GODEBUG and GOMAXPROCS are otherwise unset)", func(v string) error {
		if !strings.Contains(v, "=") {
			return fmt.Errorf("want NAME=VALUE")
		}
		c.ServerEnv = append(c.ServerEnv, v)
		return nil
	})
	fs.Func("server-arg", "an extra argument for `sessiond serve`, e.g. --server-arg=--net-http-streams (repeatable)", func(v string) error {
		c.ServerArgs = append(c.ServerArgs, v)
		return nil
	})
	err := fs.Parse(args)
	if err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, usageError(fmt.Sprintf("unexpected argument %q", fs.Arg(0)))
	}
	for b := range strings.SplitSeq(*backends, ",") {
		switch b = strings.TrimSpace(b); b {
		case "sqlite", "postgres":
			c.Backends = append(c.Backends, b)
		default:
			return nil, usageError(fmt.Sprintf("--db: unknown store %q (sqlite, postgres)", b))
		}
	}
	if c.Phases, err = parsePhases(*phases); err != nil {
		return nil, err
	}
	if c.FloodKinds, err = parseChoices("flood-kinds", *kinds, []string{floodUnknown, floodAccounts}, "unknown kind %q (unknown, accounts)"); err != nil {
		return nil, err
	}
	if c.SyncModes, err = parseChoices("sqlite-synchronous", strings.ToLower(*modes), []string{"full", "normal"}, "%q is not full or normal"); err != nil {
		return nil, err
	}
	total := 0
	for v := range strings.SplitSeq(*sweepDue, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 {
			return nil, usageError(fmt.Sprintf("--sweep-due: %q is not a positive number", v))
		}
		c.SweepDue, total = append(c.SweepDue, n), total+n
	}
	if total > c.SweepSessions {
		return nil, usageError("--sweep-due must add up to at most --sweep-sessions")
	}
	if c.SweepEvery <= 0 {
		return nil, usageError("--sweep-every must be positive")
	}
	for v := range strings.SplitSeq(*levels, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 {
			return nil, usageError(fmt.Sprintf("--streams: %q is not a positive number", v))
		}
		if len(c.Levels) > 0 && n <= c.Levels[len(c.Levels)-1] {
			return nil, usageError("--streams: levels must ascend")
		}
		c.Levels = append(c.Levels, n)
	}
	for _, p := range []struct {
		name string
		v    int
	}{
		{"me-requests", c.MeRequests}, {"me-concurrency", c.MeConcurrency}, {"list-sessions", c.ListSessions},
		{"audit-events", c.AuditEvents}, {"page-repeats", c.PageRepeats}, {"streams-per-account", c.StreamsPerAccount},
		{"revokes", c.Revokes}, {"open-concurrency", c.OpenConcurrency}, {"logins", c.Logins},
		{"login-concurrency", c.LoginConcurrency}, {"seed-workers", c.SeedWorkers},
		{"flood-workers", c.FloodWorkers}, {"flood-accounts", c.FloodAccounts}, {"flood-max", c.FloodMax},
		{"flood-me-workers", c.FloodMeWorkers}, {"writes", c.Writes}, {"write-concurrency", c.WriteConcurrency},
		{"write-rounds", c.WriteRounds}, {"bound-requests", c.BoundRequests}, {"bound-rounds", c.BoundRounds},
	} {
		if p.v < 1 {
			return nil, usageError(fmt.Sprintf("--%s must be at least 1", p.name))
		}
	}
	if c.MeWarmup < 0 {
		return nil, usageError("--me-warmup must not be negative")
	}
	if c.ReceiptBurst < 0 {
		return nil, usageError("--receipt-burst must not be negative")
	}
	if c.Revokes+c.ReceiptBurst*c.StreamsPerAccount > c.Levels[0] {
		return nil, usageError("--revokes plus --receipt-burst × --streams-per-account must not exceed the first --streams level")
	}
	if c.Revokes > c.Levels[0] {
		return nil, usageError("--revokes must not exceed the first --streams level")
	}
	if c.Steady < 0 || c.Steady >= c.PhaseTimeout {
		return nil, usageError("--steady must be shorter than --phase-timeout")
	}
	if c.PhaseTimeout <= 0 {
		return nil, usageError("--phase-timeout must be positive")
	}
	if c.FloodMeWorkers > c.MeConcurrency {
		return nil, usageError("--flood-me-workers must not exceed --me-concurrency (they use its sessions)")
	}
	if c.FloodMeRate <= 0 {
		return nil, usageError("--flood-me-rate must be positive")
	}
	// Both flood windows of a kind, plus the drain of the last attempts
	// (each waits at most sessiond's 10 s for a hash slot), fit a phase.
	if c.FloodDuration <= 0 || 2*c.FloodDuration+15*time.Second > c.PhaseTimeout {
		return nil, usageError("--flood-duration must be positive and at most (--phase-timeout - 15s) / 2")
	}
	if c.Writes < c.WriteConcurrency {
		return nil, usageError("--writes must be at least --write-concurrency")
	}
	return c, nil
}

// The phases, in the order they run.
const (
	phaseMe      = "me"
	phaseBound   = "bound"
	phasePages   = "pages"
	phaseStreams = "streams"
	phaseLogin   = "login"
	phaseFlood   = "flood"
	phaseWrites  = "writes"
	phaseSweep   = "sweep"
)

var phaseNames = []string{phaseMe, phaseBound, phasePages, phaseStreams, phaseLogin, phaseFlood, phaseWrites, phaseSweep}

func parsePhases(v string) (map[string]bool, error) {
	out := map[string]bool{}
	for p := range strings.SplitSeq(v, ",") {
		p = strings.TrimSpace(p)
		if !slices.Contains(phaseNames, p) {
			return nil, usageError(fmt.Sprintf("--phases: unknown phase %q (%s)", p, strings.Join(phaseNames, ", ")))
		}
		out[p] = true
	}
	return out, nil
}

// parseChoices reads v, the comma-separated value of --name: items of
// allowed (spaces around them trimmed), each at most once. An item not
// allowed is refused with unknown, a message format taking the item.
func parseChoices(name, v string, allowed []string, unknown string) ([]string, error) {
	var out []string
	for x := range strings.SplitSeq(v, ",") {
		x = strings.TrimSpace(x)
		switch {
		case !slices.Contains(allowed, x):
			return nil, usageError(fmt.Sprintf("--%s: "+unknown, name, x))
		case slices.Contains(out, x):
			return nil, usageError(fmt.Sprintf("--%s: %q twice", name, x))
		}
		out = append(out, x)
	}
	return out, nil
}

// Flood kinds.
const (
	floodUnknown  = "unknown"
	floodAccounts = "accounts"
)

// victimsPerWriter is how many sessions each writer's account needs to
// log out remotely over runs runs of the writes phase.
func (c *config) victimsPerWriter(runs int) int {
	return (c.Writes + c.WriteConcurrency - 1) / c.WriteConcurrency * runs
}

// streamSessions is how many stream sessions to seed: enough to top up to
// each level after the previous level's revokes and receipt burst.
func (c *config) streamSessions() int {
	return c.Levels[len(c.Levels)-1] + (c.Revokes+c.ReceiptBurst*c.StreamsPerAccount)*(len(c.Levels)-1)
}

// usageError is a mistake on the command line (exit status 2).
type usageError string

func (e usageError) Error() string { return string(e) }
