package postgres

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"sessionguard/server/store"
)

func pgErr(code, constraint string) error {
	return &pgconn.PgError{Severity: "ERROR", Code: code, Message: "message of " + code, ConstraintName: constraint}
}

// safeToRetry is an error pgconn.SafeToRetry says is safe to retry, as
// pgconn's own unexported errors do when nothing reached the server.
type safeToRetry struct{}

func (safeToRetry) Error() string     { return "failed before sending" }
func (safeToRetry) SafeToRetry() bool { return true }

func TestMapError(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
	defer cancel2()
	bg := context.Background()

	// A real connection failure, as pgx reports it.
	_, connectErr := pgconn.Connect(bg, "postgres://postgres@127.0.0.1:1/x?sslmode=disable&connect_timeout=2")
	var ce *pgconn.ConnectError
	if !errors.As(connectErr, &ce) {
		t.Fatalf("connecting to a closed port: %T %v, want a *pgconn.ConnectError", connectErr, connectErr)
	}

	// A connection to a server that never answers, as pgx reports its
	// connect_timeout.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, connectTimeout := pgconn.Connect(bg, fmt.Sprintf("postgres://postgres@%s/x?sslmode=disable&connect_timeout=1", l.Addr()))
	if connectTimeout == nil {
		t.Fatal("connected to a listener that never answers")
	}

	sentinels := []error{store.ErrNotFound, store.ErrUsernameTaken, store.ErrRevoked, store.ErrConflict,
		store.ErrUnavailable, context.Canceled, context.DeadlineExceeded}
	cases := []struct {
		name   string
		ctx    context.Context
		err    error
		closed bool
		want   []error // errors.Is must hold for these, and for no other sentinel
	}{
		{"nil", bg, nil, false, nil},
		{"username taken", bg, pgErr("23505", "accounts_username_key"), false, []error{store.ErrUsernameTaken}},
		{"another unique violation", bg, pgErr("23505", "refresh_tokens_pkey"), false, nil},
		{"duplicate account id", bg, pgErr("23505", "accounts_pkey"), false, nil},
		{"foreign key violation", bg, pgErr("23503", "sessions_account_id_fkey"), false, nil},
		{"undefined table", bg, pgErr("42P01", ""), false, nil},
		{"admin shutdown", bg, pgErr("57P01", ""), false, []error{store.ErrUnavailable}},
		{"crash shutdown", bg, pgErr("57P02", ""), false, []error{store.ErrUnavailable}},
		{"cannot connect now", bg, pgErr("57P03", ""), false, []error{store.ErrUnavailable}},
		{"connection failure", bg, pgErr("08006", ""), false, []error{store.ErrUnavailable}},
		{"connection does not exist", bg, pgErr("08003", ""), false, []error{store.ErrUnavailable}},
		{"too many connections", bg, pgErr("53300", ""), false, []error{store.ErrUnavailable}},
		{"read-only standby", bg, pgErr("25006", ""), false, []error{store.ErrUnavailable}},
		{"deadlock after retries", bg, pgErr("40P01", ""), false, []error{store.ErrUnavailable}},
		{"serialization failure after retries", bg, pgErr("40001", ""), false, []error{store.ErrUnavailable}},
		{"lock timeout", bg, pgErr("55P03", ""), false, []error{store.ErrUnavailable}},
		{"statement timeout", bg, pgErr("57014", ""), false, []error{store.ErrUnavailable}},
		{"connect error", bg, connectErr, false, []error{store.ErrUnavailable}},
		{"connection reset", bg, fmt.Errorf("read: %w", &net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}), false, []error{store.ErrUnavailable}},
		{"unexpected EOF", bg, fmt.Errorf("receive message: %w", io.ErrUnexpectedEOF), false, []error{store.ErrUnavailable}},
		{"EOF", bg, io.EOF, false, []error{store.ErrUnavailable}},
		{"conn closed", bg, fmt.Errorf("exec: %w", pgconn.ErrConnClosed), false, []error{store.ErrUnavailable}},
		{"closed pool", bg, errors.New("closed pool"), false, []error{store.ErrUnavailable}},
		{"closed store", bg, errClosed, false, []error{store.ErrUnavailable}},
		{"any error after Close", bg, pgErr("42P01", ""), true, []error{store.ErrUnavailable}},
		{"canceled", canceled, fmt.Errorf("timeout: %w", context.Canceled), false, []error{context.Canceled}},
		{"canceled after Close", canceled, context.Canceled, true, []error{context.Canceled}},
		{"deadline", expired, fmt.Errorf("timeout: %w", context.DeadlineExceeded), false, []error{context.DeadlineExceeded}},
		{"connect_timeout", bg, connectTimeout, false, []error{store.ErrUnavailable, context.DeadlineExceeded}},
		{"another internal timeout", bg, fmt.Errorf("timeout: %w", context.DeadlineExceeded), false, []error{store.ErrUnavailable, context.DeadlineExceeded}},
		{"query canceled by our context", canceled, pgErr("57014", ""), false, []error{context.Canceled}},
		{"connect error, then our context expired", expired, connectErr, false, []error{context.DeadlineExceeded}},
		{"conn closed by our context", canceled, pgconn.ErrConnClosed, false, []error{context.Canceled}},
		{"not found passes", bg, store.ErrNotFound, false, []error{store.ErrNotFound}},
		{"not found passes a done context", canceled, store.ErrNotFound, false, []error{store.ErrNotFound}},
		{"revoked passes", bg, store.ErrRevoked, false, []error{store.ErrRevoked}},
		{"conflict passes", bg, store.ErrConflict, true, []error{store.ErrConflict}},
		{"username taken passes", bg, store.ErrUsernameTaken, false, []error{store.ErrUsernameTaken}},
		{"other", bg, errors.New("boom"), false, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := mapError(tc.ctx, "op", tc.err, tc.closed)
			if (got == nil) != (tc.err == nil) {
				t.Fatalf("mapError(%v) = %v", tc.err, got)
			}
			for _, s := range sentinels {
				want := false
				for _, w := range tc.want {
					want = want || w == s
				}
				if errors.Is(got, s) != want {
					t.Errorf("mapError(%v) = %v: errors.Is(%v) = %v, want %v", tc.err, got, s, !want, want)
				}
			}
			if got != nil && !errors.Is(got, tc.err) && !errors.Is(got, store.ErrUsernameTaken) {
				t.Errorf("mapError(%v) = %v, which does not wrap the original error", tc.err, got)
			}
		})
	}
}

func TestRetry(t *testing.T) {
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	cases := []struct {
		name  string
		ctx   context.Context
		errs  []error // what the calls return, in turn; nil after the last
		calls int
		want  error
	}{
		{"success", context.Background(), nil, 1, nil},
		{"deadlock, then success", context.Background(), []error{pgErr("40P01", "")}, 2, nil},
		{"serialization failures, then success", context.Background(), []error{pgErr("40001", ""), pgErr("40001", "")}, 3, nil},
		{"failed before sending, then success", context.Background(), []error{safeToRetry{}}, 2, nil},
		{"deadlocks all the time", context.Background(),
			[]error{pgErr("40P01", ""), pgErr("40P01", ""), pgErr("40P01", ""), pgErr("40P01", ""), pgErr("40P01", "")}, maxAttempts, pgErr("40P01", "")},
		{"unique violation is final", context.Background(), []error{pgErr("23505", "x")}, 1, pgErr("23505", "x")},
		{"connection lost mid-call is final", context.Background(), []error{io.ErrUnexpectedEOF}, 1, io.ErrUnexpectedEOF},
		{"sentinel is final", context.Background(), []error{store.ErrConflict}, 1, store.ErrConflict},
		{"no retry once the context is done", canceled, []error{pgErr("40P01", "")}, 1, pgErr("40P01", "")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			calls := 0
			start := time.Now()
			err := retry(tc.ctx, func() error {
				calls++
				if calls <= len(tc.errs) {
					return tc.errs[calls-1]
				}
				return nil
			})
			if calls != tc.calls {
				t.Errorf("%d calls, want %d", calls, tc.calls)
			}
			if fmt.Sprint(err) != fmt.Sprint(tc.want) {
				t.Errorf("retry = %v, want %v", err, tc.want)
			}
			if d := time.Since(start); d > time.Second {
				t.Errorf("retry took %v", d)
			}
		})
	}
}
