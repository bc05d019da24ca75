//go:build linux

package main

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"sessionguard/api"
	"sessionguard/api/dpop"
	"sessionguard/server/store"
	"sessionguard/server/token"
)

// layout says what to put in the database before sessiond starts.
type layout struct {
	MeSessions        int // one per /v1/me worker, on the account "load-me"
	BoundSessions     int // sessions of "load-me" bound to a DPoP key each (issue 21)
	ListSessions      int // live sessions of "load-big", its caller's included
	AuditEvents       int // audit events of "load-big"
	StreamSessions    int // sessions that open event streams
	StreamsPerAccount int // stream sessions per "load-sNNNNN" account (each also has a controller session)
	FloodAccounts     int // "load-fNNNNN" accounts without sessions, for wrong passwords
	Writers           int // "load-wNNN" accounts, each with sessions to refresh, a controller and victims
	WriterRuns        int // sessions to refresh per writer account
	VictimsPerWriter  int // sessions per writer account for its controller to log out
	SweepSessions     int // sessions of "load-iNNNNN" accounts, 5 each, every account's rule sweepRule
	SweepProbes       int // sessions of "load-probe", without a rule, for requests during the sweeps
	PasswordHash      string
	Workers           int // concurrent store writes
	// SessionLife is how long seeded sessions and their access tokens
	// stay valid: longer than the run, so none expires during it.
	SessionLife time.Duration
}

// seedSession is a seeded session whose access token (and refresh token)
// the tool knows.
type seedSession struct {
	ID, AccountID, Token string
	Refresh              string
}

// boundSession is a seeded session bound to a DPoP key, with the key:
// its requests carry proofs made with it.
type boundSession struct {
	seedSession
	Key *dpop.Key
}

// writerSeed is one writer's account in the writes phase.
type writerSeed struct {
	// Refreshers are the sessions whose refresh tokens are rotated, one
	// per run of the phase, so that each run starts with one token per
	// session (the cost of a rotation grows with the session's tokens).
	// Their Refresh is the current token, in clear.
	Refreshers []seedSession
	Controller seedSession   // the session that logs the victims out
	Victims    []seedSession // in order of use
}

// seeded is what seed made.
type seeded struct {
	Me          []seedSession
	Bound       []boundSession         // of load-me, each bound to its key
	Big         seedSession            // the caller for the list and audit pages
	Streams     []seedSession          // in opening order
	Controllers map[string]seedSession // by account: the session that revokes the others
	LoginUser   string                 // an account with no sessions, for sign-ins
	FloodUsers  []string               // accounts with no sessions, for wrong passwords
	Writers     []writerSeed
	SweepIDs    []string      // the sweep phase's sessions under a rule
	SweepProbes []seedSession // its request sessions
	Accounts    int
	Sessions    int
	Events      int
	Took        time.Duration
}

// Usernames of the seeded accounts.
const (
	userMe    = "load-me"
	userBig   = "load-big"
	userLogin = "load-login"
)

// seedDB fills st according to l. Sessions get tokens generated here and
// stored as their SHA-256, exactly as sessiond's sign-in stores them.
func seedDB(ctx context.Context, st store.Store, l layout, progress func(string)) (*seeded, error) {
	start := time.Now()
	now := start.UTC().Truncate(time.Microsecond)
	out := &seeded{Controllers: map[string]seedSession{}, LoginUser: userLogin}
	newAccount := func(username string) (string, error) {
		a := store.Account{ID: token.NewID("acc_"), Username: username, PasswordHash: l.PasswordHash, CreatedAt: now}
		if err := st.CreateAccount(ctx, a); err != nil {
			return "", fmt.Errorf("seeding account %s: %w", username, err)
		}
		out.Accounts++
		return a.ID, nil
	}
	var nSessions atomic.Int64
	addSession := func(accountID string, device int, lastSeen time.Time) (seedSession, error) {
		sess, rt, tok, refresh := sessionRecord(accountID, device, now, lastSeen, l.SessionLife)
		if err := st.CreateSession(ctx, sess, rt); err != nil {
			return seedSession{}, fmt.Errorf("seeding session %d of %s: %w", device, accountID, err)
		}
		nSessions.Add(1)
		return seedSession{ID: sess.ID, AccountID: accountID, Token: tok, Refresh: refresh}, nil
	}

	// The /v1/me account and the sign-in account.
	meID, err := newAccount(userMe)
	if err != nil {
		return nil, err
	}
	for i := range l.MeSessions {
		s, err := addSession(meID, i, now)
		if err != nil {
			return nil, err
		}
		out.Me = append(out.Me, s)
	}
	for i := range l.BoundSessions {
		k, err := dpop.NewKey()
		if err != nil {
			return nil, err
		}
		sess, rt, tok, refresh := sessionRecord(meID, l.MeSessions+i, now, now, l.SessionLife)
		sess.JKT = k.Thumbprint()
		if err := st.CreateSession(ctx, sess, rt); err != nil {
			return nil, fmt.Errorf("seeding bound session %d: %w", i, err)
		}
		nSessions.Add(1)
		out.Bound = append(out.Bound, boundSession{seedSession{ID: sess.ID, AccountID: meID, Token: tok, Refresh: refresh}, k})
	}
	if _, err := newAccount(userLogin); err != nil {
		return nil, err
	}

	// The big account: its caller is the most recently seen session.
	bigID, err := newAccount(userBig)
	if err != nil {
		return nil, err
	}
	if out.Big, err = addSession(bigID, 0, now); err != nil {
		return nil, err
	}
	progress(fmt.Sprintf("seeding %d sessions and %d audit events on %s", l.ListSessions, l.AuditEvents, userBig))
	err = parallel(ctx, l.ListSessions-1, l.Workers, func(i int) error {
		_, err := addSession(bigID, i+1, now.Add(-time.Duration(i+1)*time.Second))
		return err
	})
	if err != nil {
		return nil, err
	}
	err = parallel(ctx, l.AuditEvents, l.Workers, func(i int) error {
		e := api.AuditEvent{ID: token.NewID("evt_"), At: now.Add(-time.Duration(l.AuditEvents-i) * time.Millisecond),
			Type: api.AuditLoginSucceeded, IP: "127.0.0.1", SessionID: out.Big.ID,
			DeviceName: deviceName(i % 64), Detail: "Password"}
		if _, err := st.AppendAudit(ctx, bigID, e); err != nil {
			return fmt.Errorf("seeding audit event %d: %w", i, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out.Events = l.AuditEvents

	// Stream accounts: a controller session and StreamsPerAccount streams each.
	per := max(l.StreamsPerAccount, 1)
	nAcct := (l.StreamSessions + per - 1) / per
	progress(fmt.Sprintf("seeding %d stream sessions on %d accounts", l.StreamSessions, nAcct))
	ids := make([]string, nAcct)
	for a := range nAcct {
		if ids[a], err = newAccount(fmt.Sprintf("load-s%05d", a)); err != nil {
			return nil, err
		}
	}
	streams := make([]seedSession, l.StreamSessions)
	controllers := make([]seedSession, nAcct)
	err = parallel(ctx, nAcct+l.StreamSessions, l.Workers, func(i int) error {
		var err error
		if i < nAcct {
			controllers[i], err = addSession(ids[i], 0, now)
		} else {
			j := i - nAcct
			streams[j], err = addSession(ids[j/per], 1+j%per, now)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, c := range controllers {
		out.Controllers[c.AccountID] = c
	}
	out.Streams = streams

	// Accounts for the flood's wrong passwords: no sessions.
	if l.FloodAccounts > 0 {
		progress(fmt.Sprintf("seeding %d accounts for wrong passwords", l.FloodAccounts))
		out.FloodUsers = make([]string, l.FloodAccounts)
		var mu sync.Mutex
		err = parallel(ctx, l.FloodAccounts, l.Workers, func(i int) error {
			name := fmt.Sprintf("load-f%05d", i)
			a := store.Account{ID: token.NewID("acc_"), Username: name, PasswordHash: l.PasswordHash, CreatedAt: now}
			if err := st.CreateAccount(ctx, a); err != nil {
				return fmt.Errorf("seeding account %s: %w", name, err)
			}
			mu.Lock()
			out.Accounts++
			mu.Unlock()
			out.FloodUsers[i] = name
			return nil
		})
		if err != nil {
			return nil, err
		}
	}

	// Writers: each its own account, with sessions whose refresh tokens it
	// rotates, a controller, and sessions for the controller to log out.
	if l.Writers > 0 {
		per := 1 + l.WriterRuns + l.VictimsPerWriter
		progress(fmt.Sprintf("seeding %d writer accounts with %d sessions each", l.Writers, per))
		out.Writers = make([]writerSeed, l.Writers)
		wids := make([]string, l.Writers)
		for w := range l.Writers {
			if wids[w], err = newAccount(fmt.Sprintf("load-w%03d", w)); err != nil {
				return nil, err
			}
			out.Writers[w].Refreshers = make([]seedSession, l.WriterRuns)
			out.Writers[w].Victims = make([]seedSession, l.VictimsPerWriter)
		}
		err = parallel(ctx, l.Writers*per, l.Workers, func(i int) error {
			w, k := i/per, i%per
			ws := &out.Writers[w]
			var err error
			switch {
			case k == 0:
				ws.Controller, err = addSession(wids[w], 0, now)
			case k <= l.WriterRuns:
				ws.Refreshers[k-1], err = addSession(wids[w], k, now)
			default:
				ws.Victims[k-1-l.WriterRuns], err = addSession(wids[w], k, now)
			}
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	// The sweep: accounts with a rule, created first so that their
	// sessions copy it; and the probes' account, without one.
	if l.SweepSessions > 0 {
		const per = 5
		nAcct := (l.SweepSessions + per - 1) / per
		progress(fmt.Sprintf("seeding %d sessions under an inactivity rule on %d accounts", l.SweepSessions, nAcct))
		ids := make([]string, nAcct)
		err = parallel(ctx, nAcct, l.Workers, func(i int) error {
			a := store.Account{ID: token.NewID("acc_"), Username: fmt.Sprintf("load-i%06d", i), PasswordHash: l.PasswordHash,
				CreatedAt: now, Settings: store.Settings{AutoLogoutInactiveAfter: sweepRule}}
			if err := st.CreateAccount(ctx, a); err != nil {
				return fmt.Errorf("seeding account %s: %w", a.Username, err)
			}
			ids[i] = a.ID
			return nil
		})
		if err != nil {
			return nil, err
		}
		out.Accounts += nAcct
		out.SweepIDs = make([]string, l.SweepSessions)
		err = parallel(ctx, l.SweepSessions, l.Workers, func(i int) error {
			sess, rt, _, _ := sessionRecord(ids[i/per], i%per, now, now, sweepLife)
			sess.Remember = true
			if err := st.CreateSession(ctx, sess, rt); err != nil {
				return fmt.Errorf("seeding sweep session %d: %w", i, err)
			}
			nSessions.Add(1)
			out.SweepIDs[i] = sess.ID
			return nil
		})
		if err != nil {
			return nil, err
		}
		probeID, err := newAccount("load-probe")
		if err != nil {
			return nil, err
		}
		for i := range l.SweepProbes {
			s, err := addSession(probeID, i, now)
			if err != nil {
				return nil, err
			}
			out.SweepProbes = append(out.SweepProbes, s)
		}
	}
	out.Sessions = int(nSessions.Load())
	out.Took = time.Since(start)
	return out, nil
}

// sessionRecord is a live session signed in at now, as sessiond's sign-in
// writes it, with a fresh access token and refresh token (both returned in
// clear).
func sessionRecord(accountID string, device int, now, lastSeen time.Time, life time.Duration) (store.Session, store.RefreshToken, string, string) {
	access, refresh := token.New(token.PrefixAccess), token.New(token.PrefixRefresh)
	s := store.Session{
		ID: token.NewID("ses_"), AccountID: accountID,
		Device: api.Device{ID: fmt.Sprintf("dev_load_%d", device), Name: deviceName(device),
			Platform: api.PlatformLinux, OS: "Debian 12", Model: "sgload", AppVersion: "sgload"},
		IP: "127.0.0.1", CreatedAt: now, LastSeenAt: lastSeen, AuthTime: now,
		ExpiresAt: now.Add(life), AbsoluteExpiresAt: now.Add(life),
		AccessHash: token.Hash(access), AccessExpiresAt: now.Add(life),
	}
	rt := store.RefreshToken{Hash: token.Hash(refresh), SessionID: s.ID, IssuedAt: now, ExpiresAt: s.ExpiresAt}
	return s, rt, access, refresh
}

func deviceName(i int) string { return fmt.Sprintf("Load device %d", i) }

// parallel runs f(0) … f(n-1) on up to workers goroutines and returns the
// first error (after which no new calls start).
func parallel(ctx context.Context, n, workers int, f func(i int) error) error {
	var (
		next     atomic.Int64
		firstErr error
		once     sync.Once
		wg       sync.WaitGroup
		failed   atomic.Bool
	)
	for range max(1, min(workers, n)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				err := ctx.Err()
				if err == nil {
					err = f(i)
				}
				if err != nil {
					once.Do(func() { firstErr = err })
					failed.Store(true)
				}
			}
		}()
	}
	wg.Wait()
	return firstErr
}
