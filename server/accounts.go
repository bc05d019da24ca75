package server

import (
	"context"
	"errors"
	"net/http"
	"time"

	"sessionguard/api"
	"sessionguard/server/passwd"
	"sessionguard/server/store"
)

// CreateAccount checks and stores a new account. It is the path both
// POST /v1/accounts and `sessiond user add` take. Errors are *apiError
// values with the contract's codes (invalid_request, weak_password,
// username_taken).
func (s *Server) CreateAccount(ctx context.Context, username, password string) (api.Account, error) {
	u, err := normalizeUsername(username)
	if err != nil {
		return api.Account{}, err
	}
	if len(password) > maxPassword {
		return api.Account{}, errInvalid("password", "The password is too long.")
	}
	if err := passwd.Check(password, u); err != nil {
		var pe *passwd.PolicyError
		if errors.As(err, &pe) {
			return api.Account{}, &apiError{status: http.StatusBadRequest, code: api.CodeWeakPassword,
				msg: pe.Reason, details: map[string]any{api.DetailField: "password"}}
		}
		return api.Account{}, err
	}
	// A taken name is answered before the (slow) hash; the insert below
	// still catches a race between two sign-ups for one name.
	switch _, err := s.store.AccountByUsername(ctx, u); {
	case err == nil:
		return api.Account{}, errUsernameTaken()
	case !errors.Is(err, store.ErrNotFound):
		return api.Account{}, storeErr(err)
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return api.Account{}, err
	}
	a := store.Account{ID: newID("acc_"), Username: u, PasswordHash: hash, CreatedAt: s.now()}
	if err := s.store.CreateAccount(ctx, a); err != nil {
		if errors.Is(err, store.ErrUsernameTaken) {
			return api.Account{}, errUsernameTaken()
		}
		return api.Account{}, storeErr(err)
	}
	return accountView(a), nil
}

func errUsernameTaken() *apiError {
	return &apiError{status: http.StatusConflict, code: api.CodeUsernameTaken,
		msg: "That username is taken. Choose another.", details: map[string]any{api.DetailField: "username"}}
}

func (s *Server) handleCreateAccount(w http.ResponseWriter, r *http.Request) error {
	if !s.cfg.OpenRegistration {
		return &apiError{status: http.StatusForbidden, code: api.CodeRegistrationClosed,
			msg: "This server does not allow sign-up. Ask its administrator for an account."}
	}
	var req api.CreateAccountRequest
	if err := decodeJSON(w, r, &req, false); err != nil {
		return err
	}
	// Every sign-up attempt counts against its address (IPv6: the /64), so
	// nobody can fill the database with accounts or the CPU with hashes.
	key := "signup:" + addrKey(s.clientIP(r))
	if wait, ok := s.signups.Check(key); !ok {
		e := errRateLimited(wait)
		e.msg = "Too many sign-ups from this network. Try again in " + humanWait(int((wait+time.Second-1)/time.Second)) + "."
		return e
	}
	s.signups.Fail(key)
	a, err := s.CreateAccount(r.Context(), req.Username, req.Password)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, api.CreateAccountResponse{Account: a})
	return nil
}

func accountView(a store.Account) api.Account {
	return api.Account{ID: a.ID, Username: a.Username, CreatedAt: a.CreatedAt, MFAEnabled: a.MFAEnabled}
}

func sessionView(s store.Session, currentID string) api.Session {
	v := api.Session{
		ID: s.ID, Current: s.ID == currentID, Device: s.Device, IP: s.IP, Location: s.Location,
		CreatedAt: s.CreatedAt, LastSeenAt: s.LastSeenAt, AuthTime: s.AuthTime,
		ExpiresAt: s.ExpiresAt, Remember: s.Remember,
	}
	if s.Revoked != nil {
		at := s.Revoked.At
		v.RevokedAt, v.RevokeReason = &at, s.Revoked.Reason
	}
	return v
}

// Password work is slow and memory-hungry by design (argon2id: about 50 ms
// of CPU and 20 MB each), so it is admitted, not just started: at most
// HashConcurrency hashes run at once (GOMAXPROCS-1 by default, so a flood
// of sign-ins always leaves a core for authenticated calls — a revoke must
// go through while someone hammers the sign-in form), at most HashQueue
// more wait for a turn, and none waits longer than HashWait. The rest are
// answered 503 at once, which costs nothing.

func (s *Server) acquireHashSlot(ctx context.Context) error {
	select {
	case s.hashQueue <- struct{}{}:
	default:
		return s.errHashingBusy()
	}
	t := time.NewTimer(s.cfg.HashWait)
	defer t.Stop()
	select {
	case s.hashSlots <- struct{}{}:
		return nil
	case <-t.C:
		<-s.hashQueue
		return s.errHashingBusy()
	case <-ctx.Done():
		<-s.hashQueue
		return &apiError{status: http.StatusServiceUnavailable, code: api.CodeUnavailable,
			msg: "The server is busy. Try again in a moment.", cause: ctx.Err()}
	}
}

// hashingFull reports whether every hashing turn, running or waiting, is
// taken: a sign-in now would be refused at acquireHashSlot anyway.
func (s *Server) hashingFull() bool { return len(s.hashQueue) == cap(s.hashQueue) }

// errHashingBusy answers a password check that found no turn (counted as
// sessiond_logins_total{result="busy"}).
func (s *Server) errHashingBusy() *apiError {
	s.metrics.logins.WithLabelValues("busy").Inc()
	return errBusy("The server is busy with other sign-ins. Try again in a moment.", time.Second)
}

// releaseHashSlot ends a turn taken with acquireHashSlot.
func (s *Server) releaseHashSlot() {
	<-s.hashSlots
	<-s.hashQueue
}

func (s *Server) verify(ctx context.Context, password, encoded string) (bool, error) {
	if err := s.acquireHashSlot(ctx); err != nil {
		return false, err
	}
	defer s.releaseHashSlot()
	ok, err := s.hasher.Verify(password, encoded)
	if err != nil {
		return false, storeErr(err)
	}
	return ok, nil
}

func (s *Server) dummyVerify(ctx context.Context, password string) error {
	if err := s.acquireHashSlot(ctx); err != nil {
		return err
	}
	defer s.releaseHashSlot()
	s.hasher.Dummy(password)
	return nil
}

func (s *Server) hash(ctx context.Context, password string) (string, error) {
	if err := s.acquireHashSlot(ctx); err != nil {
		return "", err
	}
	defer s.releaseHashSlot()
	h, err := s.hasher.Hash(password)
	if err != nil {
		return "", storeErr(err)
	}
	return h, nil
}
