//go:build linux

package main

import (
	"flag"
	"fmt"
	"io"
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

	MeRequests, MeConcurrency, MeWarmup    int
	ListSessions, AuditEvents, PageRepeats int
	Levels                                 []int
	StreamsPerAccount, Revokes             int
	OpenConcurrency                        int
	Logins, LoginConcurrency               int
	SeedWorkers                            int

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
latency, the first page of /v1/sessions and /v1/audit on a large account,
revoke → session.revoked on open event streams at each --streams level
(with sessiond's RSS and Go heap), and sign-in (argon2id) cost. It prints a
Markdown report. Every phase has a count and a deadline (--phase-timeout);
any error or timeout exits with status 1.

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
	fs.IntVar(&c.ListSessions, "list-sessions", 10000, "live sessions of the account whose session list is paged")
	fs.IntVar(&c.AuditEvents, "audit-events", 100000, "audit events of that account")
	fs.IntVar(&c.PageRepeats, "page-repeats", 100, "requests per first-page measurement")
	levels := fs.String("streams", "1000,10000", "connected event streams to measure at, ascending, comma-separated")
	fs.IntVar(&c.StreamsPerAccount, "streams-per-account", 5, "streams per account (each account also has one session that revokes)")
	fs.IntVar(&c.Revokes, "revokes", 300, "streams revoked one by one at each level")
	fs.IntVar(&c.OpenConcurrency, "open-concurrency", 64, "streams opened in parallel")
	fs.IntVar(&c.Logins, "logins", 40, "sign-ins (POST /v1/login, argon2id)")
	fs.IntVar(&c.LoginConcurrency, "login-concurrency", 4, "parallel sign-ins")
	fs.IntVar(&c.SeedWorkers, "seed-workers", 8, "parallel store writes while seeding")
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
	if err := fs.Parse(args); err != nil {
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
	} {
		if p.v < 1 {
			return nil, usageError(fmt.Sprintf("--%s must be at least 1", p.name))
		}
	}
	if c.MeWarmup < 0 {
		return nil, usageError("--me-warmup must not be negative")
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
	return c, nil
}

// streamSessions is how many stream sessions to seed: enough to top up to
// each level after the previous level's revokes.
func (c *config) streamSessions() int {
	return c.Levels[len(c.Levels)-1] + c.Revokes*(len(c.Levels)-1)
}

// usageError is a mistake on the command line (exit status 2).
type usageError string

func (e usageError) Error() string { return string(e) }
