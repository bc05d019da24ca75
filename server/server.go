// Package server is sessiond as a library: the v1 HTTP API over a Store,
// with token handling, step-up, rate limiting, the audit trail and the live
// event stream.
package server

import (
	"context"
	"crypto/ed25519"
	"io"
	"log/slog"
	"net/http"
	"net/netip"
	"runtime"
	"strings"
	"time"

	"sessionguard/api"
	"sessionguard/api/dpop"
	"sessionguard/server/passwd"
	"sessionguard/server/ratelimit"
	"sessionguard/server/store"
)

// Locator turns an IP address into an approximate place. Implementations
// return the zero Location when they know nothing.
type Locator interface {
	Locate(ip netip.Addr) api.Location
}

// Config tunes a Server. The zero value of each field means its default.
type Config struct {
	// AccessTTL is the access token lifetime (default 15 min).
	AccessTTL time.Duration
	// RefreshGrace is how long a rotated refresh token may be presented
	// again as a retry before it counts as reuse (default 10 s; negative:
	// no grace, any second use is reuse).
	RefreshGrace time.Duration
	// ReauthWindow is how recent auth_time must be for step-up actions
	// (default 10 min).
	ReauthWindow time.Duration
	// SessionTTL is the absolute lifetime of a session without "remember
	// me" (default 12 h).
	SessionTTL time.Duration
	// RememberIdleTTL and RememberMaxTTL bound a remembered session: it ends
	// after this long unused, or this long after sign-in (defaults 30 d and
	// 365 d).
	RememberIdleTTL time.Duration
	RememberMaxTTL  time.Duration
	// RememberedLoginTTL is the lifetime of a "remember login info"
	// credential (default 90 d).
	RememberedLoginTTL time.Duration
	// MFATokenTTL is how long the token of a sign-in waiting for its
	// second factor lasts (default 5 min).
	MFATokenTTL time.Duration
	// TouchInterval is the least time between two last_seen_at writes of a
	// session (default 1 min).
	TouchInterval time.Duration
	// KeepAlive is the interval of comment lines on event streams
	// (default 15 s).
	KeepAlive time.Duration
	// OpenRegistration allows POST /v1/accounts.
	OpenRegistration bool
	// TrustedProxies are the networks whose X-Forwarded-For is believed.
	TrustedProxies []netip.Prefix
	// AccountFailures limits failed sign-ins to one account from one
	// address (an IPv4 address or an IPv6 /64), and from one install that
	// signed in to the account before (its install key), each on its own
	// (default 10 in 15 min). IPFailures limits failed sign-ins from one
	// address whatever the account, together with the second-step tokens
	// and saved logins it presents that match nothing (default 50 in 15
	// min), and AccountCeiling failed sign-ins to one account from
	// addresses and installs it does not know (default 100 in 15 min): a
	// known install is never held back by failures from elsewhere (see
	// "How sessions are protected" in README.md). A Config's zero Burst
	// means the default; a nil Clock, Now.
	AccountFailures ratelimit.Config
	IPFailures      ratelimit.Config
	AccountCeiling  ratelimit.Config
	// Signups limits POST /v1/accounts per address, every attempt counted
	// (default 10 an hour).
	Signups ratelimit.Config
	// ReauthAttempts is how many wrong answers in a row from one session
	// (a password or code at re-authentication, the current password of a
	// password change) end it (reason reauth_failed; default 5), and how
	// many such checks one session may have running at once.
	ReauthAttempts int
	// StreamsPerSession is how many event streams one session may hold
	// open; one more replaces the oldest (default 2). StreamsPerAccount
	// caps an account's open streams on this replica; one more is refused
	// with 429 (default 64).
	StreamsPerSession int
	StreamsPerAccount int
	// HashConcurrency is how many password hashes run at once (default
	// GOMAXPROCS-1, at least 1, so sign-ins never take every core from
	// authenticated calls); HashQueue is how many more may wait for a turn
	// before sign-ins are answered 503 at once (default 64), and HashWait
	// how long one waits at most (default 10 s).
	HashConcurrency int
	HashQueue       int
	HashWait        time.Duration
	// SecretsKey (SecretsKeySize bytes) seals two-step secrets at rest.
	// Every replica of one database needs the same key. Nil makes a random
	// key for this process only, which is fine for tests and nothing else:
	// secrets sealed with it cannot be read after a restart.
	SecretsKey []byte
	// AuditKey is the seed (ed25519.SeedSize bytes) of the Ed25519 key
	// audit heads are signed with (GET /v1/audit/export); every replica of
	// one database needs the same. Nil makes a key for this process only:
	// fine for tests, but heads signed with it can't be checked after a
	// restart.
	AuditKey []byte
	// Retention is how long ended sessions and spent tokens are kept before
	// the sweeper (StartBackground) deletes them (default 90 days; negative:
	// kept forever). Audit events are always kept.
	Retention time.Duration
	// MinIdleTimeout is the shortest inactivity rule accepted, a
	// session's own (idle_timeout_s) or the account's
	// (auto_logout_inactive_after_s): default 1 h, at least
	// MinIdleTimeoutFloor and three times TouchInterval (a shorter one is
	// raised to that: see rules.go).
	MinIdleTimeout time.Duration
	// IdleSweepEvery is how often StartBackground ends the sessions gone
	// unused past their rule (default 30 s): a session that never calls
	// again ends within that long of its deadline.
	IdleSweepEvery time.Duration
	// SweepEvery is the sweeper's period (default 1 h); OutboxPoll how
	// often StartBackground looks for events written by operator commands
	// (default 1 s).
	SweepEvery time.Duration
	OutboxPoll time.Duration
	// Password sets the argon2id parameters (default passwd.OWASP).
	Password *passwd.Params
	// Locator finds locations for IPs (default: none, so every location
	// is empty). geo.Open gives one over a GeoIP2/GeoLite2 City database.
	Locator Locator
	// Logger receives request and security logs (default: discard).
	Logger *slog.Logger
	// ApprovalPollWait is how long POST /v1/login/approval and POST
	// /v1/link/poll hold a request waiting for an answer before 202
	// (default api.ApprovalPollWait).
	ApprovalPollWait time.Duration
	// Now is the clock (default time.Now).
	Now func() time.Time
	// Version is the version GET /healthz reports (default "dev"):
	// sessiond's build, or the app's when the server is embedded in it.
	Version string
	// RequireBound refuses sign-ins without a DPoP proof (400
	// invalid_dpop_proof): every new session is bound to its device's key.
	// Sessions signed in unbound before go on working.
	RequireBound bool
	// DPoPReplays is how many accepted DPoP proofs this replica remembers
	// to refuse their replay (default 1,000,000: 27 MiB measured, enough
	// for about 15,000 proofs a second; see dpop.NewReplays). A proof is
	// remembered while its iat is within dpop.Window of the clock; past
	// the limit, requests with a proof are answered 503 rather than let a
	// replay through.
	DPoPReplays int
}

func (c *Config) setDefaults() {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.AccessTTL, 15*time.Minute)
	if c.RefreshGrace == 0 {
		c.RefreshGrace = 10 * time.Second
	} else if c.RefreshGrace < 0 {
		c.RefreshGrace = 0
	}
	def(&c.ReauthWindow, 10*time.Minute)
	def(&c.SessionTTL, 12*time.Hour)
	def(&c.RememberIdleTTL, 30*24*time.Hour)
	def(&c.RememberMaxTTL, 365*24*time.Hour)
	def(&c.RememberedLoginTTL, 90*24*time.Hour)
	def(&c.MFATokenTTL, 5*time.Minute)
	def(&c.TouchInterval, time.Minute)
	def(&c.KeepAlive, 15*time.Second)
	def(&c.HashWait, 10*time.Second)
	def(&c.SweepEvery, time.Hour)
	def(&c.MinIdleTimeout, time.Hour)
	c.MinIdleTimeout = max(c.MinIdleTimeout, MinIdleTimeoutFloor, 3*c.TouchInterval)
	def(&c.IdleSweepEvery, 30*time.Second)
	def(&c.OutboxPoll, time.Second)
	if c.DPoPReplays <= 0 {
		c.DPoPReplays = 1_000_000
	}
	if c.Retention == 0 {
		c.Retention = 90 * 24 * time.Hour
	}
	defInt := func(n *int, v int) {
		if *n <= 0 {
			*n = v
		}
	}
	defInt(&c.ReauthAttempts, 5)
	defInt(&c.StreamsPerSession, 2)
	defInt(&c.StreamsPerAccount, 64)
	defInt(&c.HashConcurrency, max(1, runtime.GOMAXPROCS(0)-1))
	defInt(&c.HashQueue, 64)
	if c.ApprovalPollWait <= 0 {
		c.ApprovalPollWait = api.ApprovalPollWait
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Version == "" {
		c.Version = "dev"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if c.Password == nil {
		p := passwd.OWASP
		c.Password = &p
	}
	if c.AccountFailures.Burst == 0 {
		c.AccountFailures = ratelimit.Config{Burst: 10, Window: 15 * time.Minute}
	}
	if c.IPFailures.Burst == 0 {
		c.IPFailures = ratelimit.Config{Burst: 50, Window: 15 * time.Minute}
	}
	if c.AccountCeiling.Burst == 0 {
		c.AccountCeiling = ratelimit.Config{Burst: 100, Window: 15 * time.Minute}
	}
	if c.Signups.Burst == 0 {
		c.Signups = ratelimit.Config{Burst: 10, Window: time.Hour}
	}
	for _, l := range []*ratelimit.Config{&c.AccountFailures, &c.IPFailures, &c.AccountCeiling, &c.Signups} {
		if l.Clock == nil {
			l.Clock = c.Now
		}
	}
}

// Server is sessiond's HTTP API over a Store. Create it with New, serve
// Handler, and Close it before shutting the HTTP server down so event
// streams end.
type Server struct {
	cfg        Config
	store      store.Store
	hasher     *passwd.Hasher
	hashSlots  chan struct{}
	hashQueue  chan struct{}
	acctLimit  *ratelimit.Limiter // account+address and account+install pairs
	ipLimit    *ratelimit.Limiter
	ceiling    *ratelimit.Limiter // account, from strangers
	signups    *ratelimit.Limiter
	reauthBusy *ratelimit.Limiter // re-authentications in flight per session
	// closureMints counts closure tokens handed out on 401 answers, per
	// session (closures.go).
	closureMints *ratelimit.Limiter
	sealer       *sealer
	// usage holds uses of sessions not yet written (rules.go).
	usage *usage
	conns *connCounter // nil unless GuardListener wrapped the listener
	hub   *hub
	bus   Bus
	// waiters are the long polls of devices waiting for an approval on
	// this replica (approvals.go).
	waiters    *waiters
	metrics    *metrics
	log        *slog.Logger
	mux        *http.ServeMux
	handler    http.Handler
	auditKey   ed25519.PrivateKey
	exports    exportSlots
	registered []api.Route
	// replays are the DPoP proofs this replica accepted lately (dpop.go);
	// dpopAudited the sessions whose use without their key it audited.
	replays     *dpop.Replays
	dpopAudited *sessionSet
}

// New returns a Server over st. The caller keeps ownership of st.
func New(st store.Store, cfg Config) *Server {
	cfg.setDefaults()
	s := &Server{
		cfg:       cfg,
		store:     st,
		hasher:    &passwd.Hasher{Params: *cfg.Password},
		hashSlots: make(chan struct{}, cfg.HashConcurrency),
		hashQueue: make(chan struct{}, cfg.HashConcurrency+cfg.HashQueue),
		acctLimit: ratelimit.New(cfg.AccountFailures),
		ipLimit:   ratelimit.New(cfg.IPFailures),
		ceiling:   ratelimit.New(cfg.AccountCeiling),
		signups:   ratelimit.New(cfg.Signups),
		reauthBusy: ratelimit.New(ratelimit.Config{Burst: cfg.ReauthAttempts, Window: time.Hour,
			Clock: cfg.Now}),
		closureMints: ratelimit.New(ratelimit.Config{Burst: closureMintBurst, Window: closureMintWindow,
			Clock: cfg.Now}),
		sealer:  newSealer(cfg.SecretsKey),
		usage:   newUsage(),
		hub:     newHub(),
		waiters: newWaiters(),
		metrics: newMetrics(),
		log:     cfg.Logger,
		mux:     http.NewServeMux(),
		replays: dpop.NewReplays(cfg.DPoPReplays),
		// Enough for every session a flood of copied tokens names in a
		// while; beyond it the store still writes each event once.
		dpopAudited: newSessionSet(100_000),
	}
	s.bus = s.hub
	s.hub.sent = s.metrics.events
	s.routes()
	s.handler = s.dated(s.recoverer(s.mux))
	var keyed bool
	if s.auditKey, keyed = newAuditKey(cfg.AuditKey); !keyed {
		s.log.Warn("no audit signing key configured: audit heads are signed with a key for this process only")
	}
	if cfg.SecretsKey == nil {
		s.log.Warn("no secrets key configured: two-step secrets are sealed with a key for this process only")
	}
	return s
}

// dated sets every answer's Date from the server's clock (net/http would
// use the machine's): devices date their DPoP proofs by it (issue 21),
// so that a phone whose clock is off by minutes can still sign in, and a
// server under test with its own clock is told of in the same way.
func (s *Server) dated(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", s.now().UTC().Format(http.TimeFormat))
		next.ServeHTTP(w, r)
	})
}

// Handler returns the HTTP handler serving the whole API.
func (s *Server) Handler() http.Handler { return s.handler }

// MetricsHandler serves the Prometheus metrics. It is not part of Handler:
// serve it on an address of its own (sessiond serve --metrics-addr) that
// only the monitoring system reaches.
func (s *Server) MetricsHandler() http.Handler { return s.metrics.handler() }

// Routes lists the routes the server registered, for checking against the
// contract.
func (s *Server) Routes() []api.Route { return append([]api.Route(nil), s.registered...) }

// SetBus replaces the event bus (for example with one that fans out across
// replicas). It must be called before serving.
func (s *Server) SetBus(b Bus) { s.bus = b }

// Deliver hands an event that arrived from a Bus to this server's streams.
func (s *Server) Deliver(e Event) {
	s.wakeFor(e)
	s.hub.deliver(e)
}

// CloseStreams ends every event stream open now; their clients reconnect
// (and authenticate again). A ReadyBus calls it when it may have missed
// events from other replicas.
func (s *Server) CloseStreams() { s.hub.stopAll() }

// Close ends every open event stream. Call it before http.Server.Shutdown,
// which waits for streams that would otherwise never end.
func (s *Server) Close() { s.hub.close() }

func (s *Server) routes() {
	handle := func(method, path string, h func(http.ResponseWriter, *http.Request) error) {
		s.registered = append(s.registered, api.Route{Method: method, Path: path})
		route := method + " " + path
		s.mux.Handle(route, s.instrument(route, h))
	}
	handle("POST", "/v1/accounts", s.handleCreateAccount)
	handle("POST", "/v1/login", s.signInProof(withBody(s.handleLogin)))
	handle("POST", "/v1/login/mfa", s.signInProof(withBody(s.handleMFALogin)))
	handle("POST", "/v1/login/remembered", s.signInProof(withBody(s.handleRememberedLogin)))
	handle("POST", "/v1/login/approval", s.signInProof(withBody(s.handlePollApproval)))
	handle("POST", "/v1/login/approvals/{id}", s.authed(withBody(s.handleDecideApproval)))
	handle("POST", "/v1/link/start", withBody(s.handleLinkStart))
	handle("POST", "/v1/link/approve", s.authed(withBody(s.handleLinkApprove)))
	handle("POST", "/v1/link/poll", s.signInProof(withBody(s.handleLinkPoll)))
	handle("POST", "/v1/remembered/forget", withBody(s.handleForgetRemembered))
	handle("POST", "/v1/token/refresh", withBody(s.handleRefresh))
	handle("POST", "/v1/logout", s.authed(withOptionalBody(s.handleLogout)))
	handle("GET", "/v1/me", s.authed(s.handleMe))
	handle("GET", "/v1/sessions", s.authed(s.handleListSessions))
	handle("DELETE", "/v1/sessions", s.authed(s.handleRevokeOthers))
	handle("DELETE", "/v1/sessions/{id}", s.authed(s.handleRevokeSession))
	handle("PATCH", "/v1/sessions/{id}", s.authed(withBody(s.handleUpdateSession)))
	handle("POST", "/v1/closures", withBody(s.handleConfirmClosure))
	handle("POST", "/v1/reauth", s.authed(withBody(s.handleReauth)))
	handle("POST", "/v1/password", s.authed(withBody(s.handleChangePassword)))
	handle("POST", "/v1/mfa/totp/setup", s.authed(s.handleTOTPSetup))
	handle("POST", "/v1/mfa/totp/enable", s.authed(withBody(s.handleTOTPEnable)))
	handle("POST", "/v1/mfa/totp/disable", s.authed(s.handleTOTPDisable))
	handle("GET", "/v1/mfa/recovery-codes", s.authed(s.handleRecoveryCodesStatus))
	handle("POST", "/v1/mfa/recovery-codes", s.authed(s.handleRegenerateRecoveryCodes))
	handle("GET", "/v1/settings", s.authed(s.handleGetSettings))
	handle("PUT", "/v1/settings", s.authed(withBody(s.handlePutSettings)))
	handle("GET", "/v1/audit", s.authed(s.handleAudit))
	handle("GET", "/v1/audit/export", s.authed(s.handleAuditExport))
	handle("GET", "/v1/server-key", s.handleServerKey)
	handle("GET", "/v1/events", s.authedStream(s.handleEvents))
	handle("GET", "/healthz", s.handleHealth)
	s.mux.Handle("/", s.instrument("unmatched", s.handleUnmatched))
}

func (s *Server) now() time.Time { return s.cfg.Now().UTC().Truncate(time.Microsecond) }

func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		return errUnavailable(err)
	}
	writeJSON(w, http.StatusOK, api.HealthResponse{Status: "ok", Service: api.HealthService, Version: s.cfg.Version})
	return nil
}

// handleUnmatched answers unknown paths with 404 and known paths with the
// wrong method with 405, both in the contract's error shape.
func (s *Server) handleUnmatched(w http.ResponseWriter, r *http.Request) error {
	for _, rt := range s.registered {
		if pathMatches(rt.Path, r.URL.Path) {
			return &apiError{status: http.StatusMethodNotAllowed, code: api.CodeMethodNotAllowed,
				msg: r.Method + " is not allowed on " + r.URL.Path + "."}
		}
	}
	return errNotFound("No such endpoint.")
}

func pathMatches(pattern, path string) bool {
	ps, qs := strings.Split(pattern, "/"), strings.Split(path, "/")
	if len(ps) != len(qs) {
		return false
	}
	for i := range ps {
		if strings.HasPrefix(ps[i], "{") && qs[i] != "" {
			continue
		}
		if ps[i] != qs[i] {
			return false
		}
	}
	return true
}
