package postgres

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sessionguard/api"
	"sessionguard/server/internal/barrier"
	"sessionguard/server/store"
	"sessionguard/server/store/internal/storebench"
	"sessionguard/server/store/postgres/pgtest"
)

// call is a store call returning only its error.
type call struct {
	name string
	call func(context.Context) error
}

// calls are a few reads and writes.
func calls(s *Store, acct store.Account, ses store.Session) []call {
	var n atomic.Int64
	return []call{
		{"Ping", s.Ping},
		{"Account", func(ctx context.Context) error { _, err := s.Account(ctx, acct.ID); return err }},
		{"SessionByAccessHash", func(ctx context.Context) error { _, err := s.SessionByAccessHash(ctx, ses.AccessHash); return err }},
		{"ListSessions", func(ctx context.Context) error {
			_, err := s.ListSessions(ctx, acct.ID, "", time.Now(), nil, 50)
			return err
		}},
		{"TouchSession", func(ctx context.Context) error {
			now := time.Now()
			return s.TouchSession(ctx, ses.ID, store.Touch{LastSeenAt: now, ExpiresAt: now.Add(time.Hour)})
		}},
		{"RotateRefreshToken", func(ctx context.Context) error {
			now := time.Now()
			return s.RotateRefreshToken(ctx, store.Rotation{SessionID: ses.ID,
				New:        store.RefreshToken{Hash: accessHash(fmt.Sprint("rt ", n.Add(1), now)), IssuedAt: now, ExpiresAt: now.Add(time.Hour)},
				AccessHash: ses.AccessHash, AccessExpiresAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)})
		}},
		{"AppendAudit", func(ctx context.Context) error {
			_, err := s.AppendAudit(ctx, acct.ID, storebench.AuditEvent())
			return err
		}},
		{"ChangePassword", func(ctx context.Context) error {
			_, _, err := s.ChangePassword(ctx, store.PasswordChange{AccountID: acct.ID, OldHash: acct.PasswordHash, NewHash: acct.PasswordHash})
			return err
		}},
	}
}

// seedOne creates an account with one session.
func seedOne(t *testing.T, s *Store) (store.Account, store.Session) {
	t.Helper()
	now := time.Now()
	acct := store.Account{ID: "acc_1", Username: "ana", PasswordHash: "$argon2id$x", CreatedAt: now}
	ses := store.Session{ID: "ses_1", AccountID: acct.ID, CreatedAt: now, LastSeenAt: now, AuthTime: now,
		ExpiresAt: now.Add(time.Hour), AbsoluteExpiresAt: now.Add(time.Hour), AccessHash: accessHash("ses_1"), AccessExpiresAt: now}
	if err := s.CreateAccount(t.Context(), acct); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(t.Context(), ses, store.RefreshToken{Hash: accessHash("rt_1"), IssuedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	return acct, ses
}

// TestRecoversAfterRestart stops PostgreSQL under an open Store: calls fail
// promptly with ErrUnavailable, and once PostgreSQL is back they work
// again, on the same Store.
func TestRecoversAfterRestart(t *testing.T) {
	c := pgtest.NewCluster(t, pgtest.Options{})
	url, err := pgtest.CreateDatabase(t.Context(), c.URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := OpenOptions(t.Context(), url, Options{MaxConns: 4, ConnectTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	acct, ses := seedOne(t, s)
	cs := calls(s, acct, ses)

	// Fill the pool with connections, which the restart will break.
	callAll(t, cs, "before the restart")

	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
		start := time.Now()
		err := c.call(ctx)
		cancel()
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s while PostgreSQL is down: %v, want ErrUnavailable", c.name, err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s while PostgreSQL is down took %v", c.name, d)
		}
	}

	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	// Connections broken by the restart and not yet noticed may fail one
	// call each (with ErrUnavailable); after that every call works.
	deadline := time.Now().Add(10 * time.Second)
	failures := 0
	for _, c := range cs {
		for {
			err := c.call(t.Context())
			if err == nil {
				break
			}
			failures++
			if !errors.Is(err, store.ErrUnavailable) || time.Now().After(deadline) {
				t.Fatalf("%s after the restart: %v", c.name, err)
			}
		}
	}
	t.Logf("%d calls failed after the restart before all worked", failures)
	callAll(t, cs, "after the restart")
}

// callAll makes every call of cs on 4 goroutines at once, as many as the
// pool has connections; each must work.
func callAll(t *testing.T, cs []call, when string) {
	t.Helper()
	barrier.Run(4, func(int) {
		for _, c := range cs {
			if err := c.call(t.Context()); err != nil {
				t.Errorf("%s %s: %v", c.name, when, err)
			}
		}
	})
}

// TestConnectTimeout: a server that accepts TCP connections and never
// answers does not hang calls beyond the connect timeout.
func TestConnectTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []net.Conn
		done  = make(chan struct{})
	)
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	defer func() {
		l.Close()
		<-done
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	}()
	url := fmt.Sprintf("postgres://postgres@%s/x?sslmode=disable", l.Addr())
	cases := []struct {
		name string
		url  string
		o    Options
		max  time.Duration
	}{
		{"Options.ConnectTimeout", url, Options{ConnectTimeout: 300 * time.Millisecond}, 3 * time.Second},
		{"connect_timeout in the URL", url + "&connect_timeout=1", Options{}, 4 * time.Second},
	}
	for _, tc := range cases {
		start := time.Now()
		s, err := OpenOptions(t.Context(), tc.url, tc.o)
		if err == nil {
			s.Close()
			t.Fatalf("%s: Open on a silent server succeeded", tc.name)
		}
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s: Open on a silent server: %v, want ErrUnavailable", tc.name, err)
		}
		if d := time.Since(start); d > tc.max {
			t.Errorf("%s: Open on a silent server took %v", tc.name, d)
		}
	}
}

// TestCloseWhileBusy closes the store under running requests: each fails
// or succeeds, none hangs or panics, and those after Close fail with
// ErrUnavailable.
func TestCloseWhileBusy(t *testing.T) {
	s := openTemp(t)
	acct, ses := seedOne(t, s)
	cs := calls(s, acct, ses)
	done := make(chan error, 8)
	for i := range 8 {
		go func() {
			c := cs[i%len(cs)]
			for {
				if err := c.call(t.Context()); err != nil && !errors.Is(err, store.ErrConflict) {
					done <- err
					return
				}
			}
		}()
	}
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	t.Logf("Close took %v", time.Since(start))
	for range 8 {
		if err := <-done; !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("request after Close: %v, want ErrUnavailable", err)
		}
	}
}

// TestNoDeadlocks runs every kind of write on one account at once from two
// replicas, with retrying turned off so that a deadlock or serialization
// failure would surface: the lock order (account row, then sessions by ID,
// then remembered logins by hash, then other child rows) must leave
// PostgreSQL nothing to break. Revocations and password changes run with
// their effects (saved-login removal, audit event), sessions share devices
// with remembered logins, and a revoked session may be expired, so a
// revocation's deletions overlap ChangePassword's and each other's. New
// sessions share two installs; Purge deletes sessions the others write
// to. Revocations issue closure tokens, and receipts (IssueClosureToken,
// ConfirmClosure) lock a session row and then its tokens, as revocations
// and Purge do. The device rules take part too: settings changes lock the
// account row, then its sessions by ID; sign-ins read the account's rule
// FOR SHARE; the inactivity sweeper skips locked sessions; late uses lock
// their sessions by ID. Every audit event goes through the account's
// audit head, locked last.
func TestNoDeadlocks(t *testing.T) {
	defer func(n int) { maxAttempts = n }(maxAttempts)
	maxAttempts = 1
	url := pgtest.NewDatabase(t)
	a, b := openURL(t, url), openURL(t, url)
	ctx := t.Context()
	acct, _ := seedOne(t, a)
	base := time.Now().Truncate(time.Microsecond)
	const nSessions = 12
	sessionOf := func(i int) string { return fmt.Sprintf("ses_dl_%02d", i%nSessions) }
	deviceOf := func(i int) string { return fmt.Sprint("dev", i%3) }
	audit := func(i int) store.AuditFunc {
		return func(ended []store.Session, forgotten int) api.AuditEvent {
			return api.AuditEvent{ID: fmt.Sprint("evt_", i), At: base, Type: api.AuditSessionRevoked,
				Detail: fmt.Sprint(len(ended), " ended, ", forgotten, " forgotten")}
		}
	}
	for i := range nSessions {
		expires := base.Add(time.Hour)
		if i%4 == 3 { // not live for RevokeOtherSessions and ChangePassword, yet RevokeSession ends it
			expires = base
		}
		ses := store.Session{ID: sessionOf(i), AccountID: acct.ID, Device: api.Device{ID: deviceOf(i)},
			CreatedAt: base, LastSeenAt: base.Add(time.Duration(i) * time.Second),
			AuthTime: base, ExpiresAt: expires, AbsoluteExpiresAt: base.Add(time.Hour),
			AccessHash: accessHash(sessionOf(i)), AccessExpiresAt: base}
		if err := a.CreateSession(ctx, ses, store.RefreshToken{Hash: accessHash("rt " + ses.ID), IssuedAt: base, ExpiresAt: base.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	var seq int64
	var seqMu sync.Mutex
	unique := func(what string) []byte {
		seqMu.Lock()
		defer seqMu.Unlock()
		seq++
		return accessHash(fmt.Sprint(what, seq))
	}
	// closure is a revocation's ClosureFunc: a hash per session, fresh
	// for each revocation.
	closure := func() store.ClosureFunc {
		prefix := string(unique("closure"))
		return func(id string) []byte { return accessHash(prefix + id) }
	}
	ops := []func(s *Store, i int) error{
		func(s *Store, i int) error { // password change with revocation of the others
			cur, err := s.Account(ctx, acct.ID)
			if err != nil {
				return err
			}
			_, _, err = s.ChangePassword(ctx, store.PasswordChange{AccountID: acct.ID, OldHash: cur.PasswordHash,
				NewHash: fmt.Sprint("hash ", i), KeepSessionID: sessionOf(i),
				Revoke: &store.Revocation{At: base, Reason: api.ReasonPasswordChanged}, Audit: audit(i), Closure: closure()})
			return err
		},
		func(s *Store, i int) error {
			_, err := s.RevokeOtherSessions(ctx, acct.ID, sessionOf(i), store.Revocation{At: base, Reason: api.ReasonLogoutOthers},
				store.RevokeEffects{Forget: true, KeepDeviceID: deviceOf(i), Audit: audit(i), Closure: closure()})
			return err
		},
		func(s *Store, i int) error {
			_, err := s.RevokeSession(ctx, acct.ID, sessionOf(i), store.Revocation{At: base, Reason: api.ReasonRemoteLogout},
				store.RevokeEffects{Forget: true, Audit: audit(i), Closure: closure()})
			return err
		},
		func(s *Store, i int) error { // receipts: a token issued, then sent (perhaps one of another revocation)
			h := unique("ct")
			if err := s.IssueClosureToken(ctx, sessionOf(i), h, base); err != nil {
				return err
			}
			if i%3 == 0 {
				h = accessHash(fmt.Sprint("closure", i, sessionOf(i))) // most likely none
			}
			_, err := s.ConfirmClosure(ctx, h, base, i%2 == 0, func(before store.Session) api.AuditEvent {
				return api.AuditEvent{ID: fmt.Sprint("evt_receipt_", i), At: base, Type: api.AuditSessionClosureConfirmed}
			})
			return err
		},
		func(s *Store, i int) error {
			now := base.Add(time.Duration(i) * time.Millisecond)
			return s.RotateRefreshToken(ctx, store.Rotation{SessionID: sessionOf(i),
				New:        store.RefreshToken{Hash: unique("rt"), IssuedAt: now, ExpiresAt: now.Add(time.Hour)},
				AccessHash: unique("at"), AccessExpiresAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)})
		},
		func(s *Store, i int) error {
			return s.TouchSession(ctx, sessionOf(i), store.Touch{LastSeenAt: base.Add(time.Duration(i) * time.Second), ExpiresAt: base.Add(time.Hour)})
		},
		func(s *Store, i int) error { // a new session, from one of two installs
			id := fmt.Sprintf("ses_new_%d_%p", i, s)
			return s.CreateSession(ctx, store.Session{ID: id, AccountID: acct.ID, Device: api.Device{ID: deviceOf(i)},
				InstallHash: accessHash(fmt.Sprint("install", i%2)),
				CreatedAt:   base.Add(time.Duration(i) * time.Millisecond), LastSeenAt: base, AuthTime: base,
				ExpiresAt: base.Add(time.Hour), AbsoluteExpiresAt: base.Add(time.Hour), AccessHash: unique("new at"), AccessExpiresAt: base},
				store.RefreshToken{Hash: unique("new rt"), IssuedAt: base, ExpiresAt: base.Add(time.Hour)},
				api.AuditEvent{ID: id, At: base, Type: api.AuditLoginSucceeded, SessionID: id})
		},
		func(s *Store, i int) error { // an MFA token, sweeping expired ones
			return s.CreateMFAToken(ctx, store.MFAToken{Hash: unique("mfa"), AccountID: acct.ID,
				CreatedAt: base.Add(time.Duration(i) * time.Second), ExpiresAt: base.Add(time.Duration(i+3) * time.Second)})
		},
		func(s *Store, i int) error { // two-step verification on and off
			if err := s.SetTOTPPending(ctx, acct.ID, "SECRET"); err != nil && !errors.Is(err, store.ErrConflict) {
				return err
			}
			if _, err := s.EnableTOTP(ctx, acct.ID, "SECRET", int64(i), [][]byte{unique("code"), unique("code")}); err != nil && !errors.Is(err, store.ErrConflict) {
				return err
			}
			if _, err := s.UseTOTPStep(ctx, acct.ID, int64(i)); err != nil {
				return err
			}
			_, err := s.DisableTOTP(ctx, acct.ID)
			return err
		},
		func(s *Store, i int) error { // remembered logins
			h := unique("rem")
			if err := s.CreateRemembered(ctx, store.Remembered{Hash: h, AccountID: acct.ID, DeviceID: fmt.Sprint("dev", i%3),
				CreatedAt: base, ExpiresAt: base.Add(time.Hour), AuthTime: base}); err != nil {
				return err
			}
			if _, err := s.DeleteRememberedExcept(ctx, acct.ID, "dev0"); err != nil {
				return err
			}
			if _, err := s.DeleteRememberedForDevice(ctx, acct.ID, deviceOf(i+1)); err != nil {
				return err
			}
			_, err := s.ConsumeRemembered(ctx, h, base)
			return err
		},
		func(s *Store, i int) error { // re-auth failures and their reset
			if _, err := s.FailReauth(ctx, sessionOf(i)); err != nil {
				return err
			}
			return s.SetAuthTime(ctx, sessionOf(i+1), base)
		},
		func(s *Store, i int) error { // retention: the sessions that expired at base, rotated tokens, expired MFA tokens
			_, err := s.Purge(ctx, base.Add(time.Duration(i)*time.Second), base.Add(time.Millisecond))
			return err
		},
		func(s *Store, i int) error {
			_, err := s.AppendOutbox(ctx, base, []byte(fmt.Sprint(i)))
			return err
		},
		func(s *Store, i int) error { // audit events on their own, two at a time
			e := api.AuditEvent{ID: fmt.Sprint("evt_alone_", i), At: base, Type: api.AuditLoginFailed}
			_, err := s.AppendAudit(ctx, acct.ID, e, e)
			return err
		},
		func(s *Store, i int) error { // renaming a device while it is revoked and rotated
			_, err := s.RenameSession(ctx, acct.ID, sessionOf(i), fmt.Sprint("name ", i),
				func(before store.Session) api.AuditEvent {
					return api.AuditEvent{ID: fmt.Sprint("evt_rename_", i, "_", before.Device.Name), At: base, Type: api.AuditSessionRenamed}
				})
			return err
		},
		func(s *Store, i int) error { // new recovery codes while two-step goes on and off
			_, err := s.ReplaceRecoveryCodes(ctx, acct.ID, [][]byte{unique("code"), unique("code")},
				func(n int) api.AuditEvent {
					return api.AuditEvent{ID: fmt.Sprint("evt_codes_", i, "_", n), At: base, Type: api.AuditRecoveryCodesRegenerated}
				})
			return err
		},
		func(s *Store, i int) error { // the account's rule, copied into every live session
			_, err := s.SetSettings(ctx, acct.ID, store.Settings{AutoLogoutInactiveAfter: time.Duration(1+i%3) * time.Hour},
				func(store.Settings) api.AuditEvent {
					return api.AuditEvent{ID: fmt.Sprint("evt_settings_", i), At: base, Type: api.AuditSettingsChanged}
				})
			return err
		},
		func(s *Store, i int) error { // a device's own rule and name
			rule, name := time.Duration(i%2)*time.Hour, fmt.Sprint("device ", i)
			_, err := s.UpdateSession(ctx, acct.ID, sessionOf(i), store.SessionUpdate{Name: &name, IdleTimeout: &rule},
				func(before store.Session) []api.AuditEvent {
					return []api.AuditEvent{{ID: fmt.Sprint("evt_rule_", i), At: base, Type: api.AuditSessionRulesChanged}}
				})
			return err
		},
		func(s *Store, i int) error { // the inactivity sweeper, with its effects
			_, err := s.EndIdleSessions(ctx, store.IdleSweep{Revocation: store.Revocation{At: base.Add(time.Duration(50+i) * time.Minute),
				Reason: api.ReasonInactive}, Limit: 3, Forget: true, Closure: closure(),
				Audit: func(e store.Session, forgotten int) api.AuditEvent {
					return api.AuditEvent{ID: fmt.Sprint("evt_idle_", i, e.ID), At: base, Type: api.AuditSessionRevoked}
				}})
			return err
		},
		func(s *Store, i int) error { // uses written late, several sessions at once
			now := base.Add(time.Duration(i) * time.Second)
			return s.RecordUse(ctx, []store.Use{{SessionID: sessionOf(i + 5), At: now, ExpiresAt: now.Add(time.Hour)},
				{SessionID: sessionOf(i), At: now, ExpiresAt: now.Add(time.Hour)}, {SessionID: sessionOf(i + 2), At: now, ExpiresAt: now.Add(time.Hour)}})
		},
		func(s *Store, i int) error { // rewriting secrets while two-step goes on and off
			_, err := s.RewriteTOTPSecrets(ctx, func(v string) (string, bool, error) { return v + "!", len(v) < 10, nil })
			return err
		},
	}
	const rounds = 40
	var wg sync.WaitGroup
	errs := make(chan error, len(ops)*2*rounds)
	for k, op := range ops {
		for r, s := range []*Store{a, b} {
			wg.Go(func() {
				for i := range rounds {
					err := op(s, i*7+k+r)
					switch {
					case err == nil, errors.Is(err, store.ErrConflict), errors.Is(err, store.ErrRevoked), errors.Is(err, store.ErrNotFound):
					default:
						errs <- fmt.Errorf("op %d on replica %d: %w", k, r, err)
						return
					}
				}
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// Every write's audit events took their turn on the account's head:
	// one chain, no gap.
	verifyAll(t, a)
}

// freezer is a TCP proxy to a PostgreSQL server that can stop passing bytes
// on while keeping every connection open, as a network partition or a
// frozen host does.
type freezer struct {
	l        net.Listener
	upstream string
	mu       sync.Mutex
	cond     *sync.Cond
	frozen   bool
	closed   bool
	conns    []net.Conn
	wg       sync.WaitGroup
}

func newFreezer(t *testing.T, upstream string) *freezer {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	f := &freezer{l: l, upstream: upstream}
	f.cond = sync.NewCond(&f.mu)
	f.wg.Go(f.accept)
	t.Cleanup(f.close)
	return f
}

func (f *freezer) accept() {
	for {
		c, err := f.l.Accept()
		if err != nil {
			return
		}
		u, err := net.Dial("tcp", f.upstream)
		if err != nil {
			c.Close()
			continue
		}
		f.mu.Lock()
		f.conns = append(f.conns, c, u)
		f.mu.Unlock()
		f.wg.Go(func() { f.pipe(u, c) })
		f.wg.Go(func() { f.pipe(c, u) })
	}
}

// pipe copies src to dst, holding what it reads while frozen.
func (f *freezer) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		f.mu.Lock()
		for f.frozen && !f.closed {
			f.cond.Wait()
		}
		f.mu.Unlock()
		if n > 0 {
			if _, err := dst.Write(buf[:n]); err != nil {
				src.Close()
				return
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}

func (f *freezer) setFrozen(v bool) {
	f.mu.Lock()
	f.frozen = v
	f.cond.Broadcast()
	f.mu.Unlock()
}

func (f *freezer) close() {
	f.l.Close()
	f.mu.Lock()
	f.closed = true
	f.cond.Broadcast()
	for _, c := range f.conns {
		c.Close()
	}
	f.mu.Unlock()
	f.wg.Wait()
}

// TestCallTimeout: when the database stops answering on open connections,
// calls give ErrUnavailable after the call timeout instead of hanging, and
// work again once it answers.
func TestCallTimeout(t *testing.T) {
	url := pgtest.NewDatabase(t)
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		t.Fatal(err)
	}
	f := newFreezer(t, net.JoinHostPort(cfg.Host, fmt.Sprint(cfg.Port)))
	proxied := fmt.Sprintf("postgres://%s@%s/%s?sslmode=disable", cfg.User, f.l.Addr(), cfg.Database)
	s, err := OpenOptions(t.Context(), proxied, Options{MaxConns: 2, ConnectTimeout: 500 * time.Millisecond, CallTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	acct, ses := seedOne(t, s)
	cs := calls(s, acct, ses)

	f.setFrozen(true)
	for _, c := range cs {
		start := time.Now()
		err := c.call(t.Context())
		if !errors.Is(err, store.ErrUnavailable) {
			t.Errorf("%s while the database does not answer: %v, want ErrUnavailable", c.name, err)
		}
		if d := time.Since(start); d > 3*time.Second {
			t.Errorf("%s while the database does not answer took %v", c.name, d)
		}
	}
	f.setFrozen(false)
	deadline := time.Now().Add(10 * time.Second)
	for _, c := range cs {
		for {
			err := c.call(t.Context())
			if err == nil {
				break
			}
			if !errors.Is(err, store.ErrUnavailable) || time.Now().After(deadline) {
				t.Fatalf("%s once the database answers again: %v", c.name, err)
			}
		}
	}
}
