// Package postgres implements store.Store on a PostgreSQL database with
// github.com/jackc/pgx/v5 and its connection pool, pgxpool. Several sessiond
// replicas may share one database: nothing here relies on in-process locks.
//
// # Concurrency
//
// Every transaction runs at PostgreSQL's default isolation level, READ
// COMMITTED, and every "exactly one wins" rule of the store.Store contract
// is a row lock taken by the write itself:
//
//   - Single-row compare-and-set writes are one conditional statement
//     (UPDATE … WHERE <state> [RETURNING], DELETE … RETURNING). A writer
//     that finds the row locked by another waits for it to commit and then
//     re-checks its WHERE against the new row version, so of concurrent
//     callers exactly one matches: RevokeSession, UseTOTPStep,
//     UseRecoveryCode, ConsumeRemembered, ConsumeMFAToken, SetTOTPPending,
//     TouchSession, SetAuthTime, FailReauth (whose UPDATE … RETURNING
//     gives each of concurrent callers its own count), MarkDPoPRefused
//     (which then appends its audit event, holding the session's row);
//     CreateAccount rests on the unique index.
//   - RotateRefreshToken first locks the session row with its conditional
//     UPDATE (which refuses a revoked session), then stamps the live
//     refresh tokens and inserts the new one in later statements of the
//     same transaction. Under READ COMMITTED each statement takes a fresh
//     snapshot, so the stamping sees every rotation that committed while
//     this one waited for the lock. Rotations of one session therefore run
//     one after another, and a revocation (an UPDATE of the same row) comes
//     either before a rotation, which then finds the session revoked and
//     changes nothing, or after it: a revoked session never gets a new
//     token. (A single statement with data-modifying CTEs would not do: all
//     its parts share one snapshot.)
//   - ChangePassword, EnableTOTP and DisableTOTP lock the account row with
//     SELECT … FOR UPDATE, check its state, then write (EnableTOTP then
//     deletes the remembered logins, locked in hash order).
//     RewriteTOTPSecrets calls its function outside any transaction, then
//     writes each account in one of its own with compare-and-set UPDATEs,
//     which lock the account row first. FOR UPDATE also
//     conflicts with the FOR KEY SHARE lock that inserting a session,
//     remembered login or MFA token takes on its account through the
//     foreign key, so those inserts wait for the change (or it for them):
//     nothing slips in between its deletes and its commit.
//     ReplaceRecoveryCodes locks the account row too, but FOR NO KEY
//     UPDATE: it queues behind (or ahead of) the writes above and other
//     replacements, and lets sign-ins' inserts through.
//   - UpdateSession (and RenameSession) reads its session FOR NO KEY
//     UPDATE (the lock its UPDATE takes anyway), then updates it:
//     concurrent updates and revocations of the session run one after
//     another, each reading the row as the one before left it.
//   - SetSettings locks the account row (FOR NO KEY UPDATE), then the
//     account's live sessions in id order to copy the account's rule into
//     them. CreateSession reads that rule FOR SHARE before inserting the
//     session, so a sign-in and a settings change queue on the account
//     row: the session gets the new rule, or is there for the change to
//     update. (Other sign-in writes of the account row, such as
//     UseTOTPStep, are in transactions of their own.)
//   - EndIdleSessions takes its batch of due sessions with SELECT … FOR
//     UPDATE SKIP LOCKED: it never waits for a session (a session another
//     transaction holds is left to the next sweep, and re-checked, so one
//     used or ended meanwhile is not taken), and replicas sweeping at once
//     split the sessions between them. Then, like a revocation, closure
//     tokens and the ended devices' remembered logins, in account and
//     device order, each device's in hash order.
//   - RecordUse locks the sessions it moves forward in id order (FOR NO
//     KEY UPDATE) before updating them.
//   - RevokeOtherSessions (and ChangePassword's revocation) lock the live
//     sessions they end with SELECT … ORDER BY id FOR UPDATE before
//     updating them: always in the same order, so concurrent calls queue
//     rather than deadlock, and a session another call ended meanwhile is
//     re-checked and skipped, never ended twice.
//   - A revocation's effects (store.RevokeEffects) and ChangePassword's
//     deletions run in the transaction that ends the sessions, after it:
//     remembered logins are deleted after locking them with SELECT …
//     ORDER BY hash FOR UPDATE (DeleteRememberedForDevice and
//     DeleteRememberedExcept do the same), and the audit event is
//     appended last (see below). CreateSession appends its audit events
//     with the session, after upserting the known install (a child row
//     of the account: concurrent sign-ins from one install queue on its
//     row).
//   - Closure tokens are child rows of their session and are always
//     written after it is locked: a revocation inserts the ended
//     sessions' first tokens after its UPDATE; IssueClosureToken reads
//     the session FOR NO KEY UPDATE before inserting and trimming;
//     ConfirmClosure's conditional UPDATE of the session (only a pending
//     closure matches, so of concurrent receipts exactly one updates)
//     comes before it deletes the tokens; Purge's deletion of a session
//     cascades to them.
//   - The audit log is a hash chain per account (api/auditchain), and
//     its writers are serialized per account by the account's row in
//     audit_heads (its newest event's seq and hash). Every append, alone
//     (AppendAudit) or as the last write of a change's transaction
//     (chainAuditTx), first inserts the account's head if it has none
//     (INSERT … ON CONFLICT DO NOTHING: a concurrent insert of the same
//     head waits for the first to end) and then, in a later statement
//     and so a later snapshot, locks it with SELECT … FOR UPDATE, which
//     reads the head as the last holder left it; it links its events
//     after that head in Go, inserts them and moves the head in one
//     statement, and commits holding the lock. A second writer of the
//     account, on any replica, waits for the lock and then chains after
//     the first's events: the chain never forks nor skips a number, and
//     the primary key (account_id, account_seq) would refuse a fork
//     anyway. The inactivity sweep appends for several accounts in one
//     statement; it locks their heads in account order. The store-wide
//     seq of audit_events comes from an identity column's sequence.
//     Outbox sequence numbers come from a sequence too, drawn under a
//     transaction-level advisory lock held until commit, so that outbox
//     entries commit in seq order and a reader never skips one.
//   - Purge deletes in batches, each selected FOR UPDATE SKIP LOCKED: it
//     never waits for a row lock (it leaves a locked row to its next run),
//     so it takes part in no lock cycle, and replicas purging at once
//     split the work.
//
// A transaction that locks several rows takes the account row first (if
// at all), then sessions in id order, then remembered logins in hash
// order, and inserts a child row (which key-share locks its parent)
// before it deletes any of its siblings (CreateMFAToken); audit heads
// come last of all, in account order (byte order, as account_id is
// COLLATE "C"), and a transaction that holds one waits for nothing but
// the next of its heads before it commits. So deadlocks should not
// happen; TestNoDeadlocks runs every kind of write on one account from
// two replicas with retries off. Should PostgreSQL report one anyway
// (40P01), or a serialization failure (40001), the whole transaction is
// retried a few times with a short backoff, as is any call that failed
// before it sent anything to the server (pgconn.SafeToRetry).
//
// # Errors and availability
//
// Failures to reach the database (connection refused or lost, the pool
// closed, the server shutting down or starting up, SQLSTATE classes 08, 53
// and 57P, a read-only standby) wrap store.ErrUnavailable; a cancelled or
// expired context stays errors.Is(err, context.Canceled) or
// context.DeadlineExceeded. After Close every call gives ErrUnavailable.
// Connection attempts time out after DefaultConnectTimeout unless the URL
// sets connect_timeout, each call after DefaultCallTimeout (see Options),
// and pgxpool pings a connection idle for more than a second before handing
// it out, so after PostgreSQL restarts the Store recovers by itself: calls
// fail with ErrUnavailable while it is down and work again once it is back.
//
// # Connection URL
//
// Open takes what pgx takes: a postgres:// URL or key=value DSN, with
// pgxpool's pool_max_conns and the like, and pgx's default_query_exec_mode
// (exec or simple_protocol suit PgBouncer's transaction pooling; the
// default caches prepared statements per connection).
//
// # Time
//
// Times are stored as timestamptz, which keeps microseconds; they are read
// back in UTC.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"sessionguard/server/store"
)

// DefaultConnectTimeout bounds each connection attempt when neither the URL
// (connect_timeout) nor Options.ConnectTimeout says otherwise, so that calls
// fail with store.ErrUnavailable rather than hang while the server is away.
const DefaultConnectTimeout = 5 * time.Second

// DefaultCallTimeout bounds each call of a Store unless
// Options.CallTimeout says otherwise. It is far above what any call takes
// on a healthy database.
const DefaultCallTimeout = 30 * time.Second

// ApplicationName is the application_name the Store's connections report
// (in pg_stat_activity) unless the URL sets one.
const ApplicationName = "sessiond"

// maxAttempts is how many times a call is tried when it fails on a
// deadlock, a serialization failure, or before anything was sent. (A
// variable so that tests can turn retrying off.)
var maxAttempts = 4

// Options tune a Store beyond what its URL says. The zero value keeps the
// URL's settings and pgxpool's defaults.
type Options struct {
	// MaxConns caps the connections the pool opens. 0 keeps the URL's
	// pool_max_conns, else pgxpool's default (the larger of 4 and the
	// number of CPUs).
	MaxConns int32
	// MinConns is how many connections the pool keeps open even when
	// idle. 0 keeps the URL's pool_min_conns, else none.
	MinConns int32
	// ConnectTimeout bounds each connection attempt. 0 keeps the URL's
	// connect_timeout, else DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// CallTimeout bounds each call (every statement and retry of it), so
	// that a database that stopped answering on an open connection (a
	// network partition, a frozen host) gives store.ErrUnavailable rather
	// than a hang. 0 means DefaultCallTimeout; a negative value, none. (The
	// migrations Open runs are not bounded: they may wait for another
	// replica's.)
	CallTimeout time.Duration
}

// Store is a store.Store on a PostgreSQL database, safe for concurrent use
// by many goroutines and by many processes sharing the database.
type Store struct {
	pool        *pgxpool.Pool
	callTimeout time.Duration

	closed    atomic.Bool
	closeOnce sync.Once
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (a postgres:// URL or a key=value
// DSN, as pgx takes them, pool_* settings included) and brings its schema
// up to date (see Migrate). It fails with an error wrapping
// store.ErrUnavailable when the server cannot be reached. The caller must
// Close the Store.
func Open(ctx context.Context, url string) (*Store, error) {
	return OpenOptions(ctx, url, Options{})
}

// OpenOptions is Open with Options.
func OpenOptions(ctx context.Context, url string, o Options) (*Store, error) {
	s, err := open(ctx, url, o)
	if err != nil {
		return nil, err
	}
	if err := s.Migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// open connects without touching the schema.
func open(ctx context.Context, url string, o Options) (*Store, error) {
	cfg, err := poolConfig(url, o)
	if err != nil {
		return nil, err
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	s := &Store{pool: pool, callTimeout: o.CallTimeout}
	if s.callTimeout == 0 {
		s.callTimeout = DefaultCallTimeout
	}
	if err := s.Ping(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

// poolConfig parses url and applies o and the Store's own settings.
func poolConfig(url string, o Options) (*pgxpool.Config, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		// pgconn's ParseConfigError masks passwords in its message.
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	}
	if o.MinConns > 0 {
		cfg.MinConns = min(o.MinConns, cfg.MaxConns)
	}
	cc := cfg.ConnConfig
	switch {
	case o.ConnectTimeout > 0:
		cc.ConnectTimeout = o.ConnectTimeout
	case cc.ConnectTimeout == 0:
		cc.ConnectTimeout = DefaultConnectTimeout
	}
	if _, ok := cc.RuntimeParams["application_name"]; !ok {
		cc.RuntimeParams["application_name"] = ApplicationName
	}
	cfg.AfterConnect = func(_ context.Context, c *pgx.Conn) error {
		// Scan timestamptz values in UTC rather than time.Local.
		c.TypeMap().RegisterType(&pgtype.Type{
			Name:  "timestamptz",
			OID:   pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
		})
		return nil
	}
	return cfg, nil
}

// Ping checks that the database is reachable.
func (s *Store) Ping(ctx context.Context) error {
	return s.run(ctx, "ping", s.pool.Ping)
}

// Close closes the pool's connections, waiting for calls in progress to
// give theirs back. It is safe to call more than once; every other method
// returns an error wrapping store.ErrUnavailable after it.
func (s *Store) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		s.pool.Close()
	})
	return nil
}

// run calls fn with ctx bounded by the call timeout, again on transient
// failures, and wraps its error. fn must use the context it is given.
func (s *Store) run(ctx context.Context, op string, fn func(context.Context) error) error {
	cctx := ctx
	if s.callTimeout > 0 {
		var cancel context.CancelFunc
		cctx, cancel = context.WithTimeout(ctx, s.callTimeout)
		defer cancel()
	}
	// Errors are judged against the caller's ctx: the call timeout
	// expiring while it is live means the database is not answering.
	return s.wrap(ctx, op, retry(cctx, func() error { return fn(cctx) }))
}

// tx runs fn in a transaction, committed if fn returns nil and rolled back
// otherwise, and runs it all again on transient failures. fn must use the
// context it is given, and set its results afresh on every call.
func (s *Store) tx(ctx context.Context, op string, fn func(context.Context, pgx.Tx) error) error {
	return s.run(ctx, op, func(ctx context.Context) error {
		if s.closed.Load() {
			return errClosed
		}
		return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return fn(ctx, tx) })
	})
}

// errClosed is the failure of a call on a closed Store.
var errClosed = errors.New("store closed")

// retry calls fn until it succeeds, fails for good, or has been tried
// maxAttempts times.
func retry(ctx context.Context, fn func() error) error {
	for attempt := 1; ; attempt++ {
		err := fn()
		if err == nil || attempt == maxAttempts || ctx.Err() != nil || !transient(err) {
			return err
		}
		// 1–2 ms, 2–4 ms, 4–8 ms: enough for the transaction that won
		// to commit, short enough not to matter to a request.
		d := time.Duration(1<<(attempt-1)) * time.Millisecond
		d += rand.N(d)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// transient reports whether trying err's call again may well succeed and
// cannot do harm.
func transient(err error) bool {
	switch sqlState(err) {
	case "40001", "40P01": // serialization_failure, deadlock_detected: rolled back
		return true
	}
	return pgconn.SafeToRetry(err)
}

// sqlState returns err's SQLSTATE, "" if PostgreSQL did not report it.
func sqlState(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// wrap adds the operation to err and classifies it (see mapError).
func (s *Store) wrap(ctx context.Context, op string, err error) error {
	return mapError(ctx, op, err, s.closed.Load())
}

// mapError turns a pgx error into what the store.Store contract promises:
// the store's own sentinel errors pass as they are; when the caller's
// context is done, an error wrapping the context's error; a closed store or
// an unreachable database (connect_timeout included) gives one wrapping
// store.ErrUnavailable; a unique violation of the username gives
// store.ErrUsernameTaken. Anything else is wrapped with the operation's
// name.
func mapError(ctx context.Context, op string, err error, closed bool) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrUsernameTaken),
		errors.Is(err, store.ErrRevoked), errors.Is(err, store.ErrConflict),
		errors.Is(err, store.ErrUnavailable):
		return err
	case ctx.Err() != nil:
		// The caller's context ended the call (pgx may report that as a
		// closed connection or a cancelled query, too).
		if errors.Is(err, ctx.Err()) {
			return fmt.Errorf("postgres: %s: %w", op, err)
		}
		return fmt.Errorf("postgres: %s: %w: %w", op, ctx.Err(), err)
	case closed || isUnavailable(err),
		// A context error while the caller's context is live is pgx's
		// own timeout: connect_timeout.
		errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
		return fmt.Errorf("postgres: %s: %w: %w", op, store.ErrUnavailable, err)
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "23505" && pe.ConstraintName == "accounts_username_key" {
		return store.ErrUsernameTaken
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// isUnavailable reports whether err means the database cannot be used at
// all right now, as opposed to a problem with one request.
func isUnavailable(err error) bool {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch code := pe.Code; {
		case strings.HasPrefix(code, "08"): // connection_exception
			return true
		case strings.HasPrefix(code, "53"): // insufficient_resources: too_many_connections, disk_full, out_of_memory
			return true
		case strings.HasPrefix(code, "57P"): // admin_shutdown, crash_shutdown, cannot_connect_now, database_dropped, idle_session_timeout
			return true
		case code == "25006": // read_only_sql_transaction: a standby, mid-failover
			return true
		case code == "40001", code == "40P01": // still contended after retries: try again later
			return true
		case code == "55P03": // lock_not_available (lock_timeout)
			return true
		case code == "57014": // query_canceled, not by our context: statement_timeout
			return true
		}
		return false
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	switch {
	case errors.As(err, &ce), errors.As(err, &ne):
		return true
	case errors.Is(err, pgconn.ErrConnClosed), errors.Is(err, errClosed),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed):
		return true
	case pgconn.Timeout(err):
		return true
	}
	// puddle, under pgxpool, does not export its closed-pool error to
	// pgx's users.
	return strings.Contains(err.Error(), "closed pool")
}

// notFound turns pgx.ErrNoRows into store.ErrNotFound; other errors are
// returned as they are.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// nonNil keeps a nil hash from binding as NULL in a NOT NULL bytea column.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// nullBytes binds an empty hash of a nullable bytea column (an install key
// hash) as NULL, so none reads back as nil.
func nullBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}
