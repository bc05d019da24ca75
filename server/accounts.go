package server

// Accounts: sign-up (POST /v1/accounts, and CreateAccount for `sessiond
// user add`) and who is signed in (GET /v1/me).

import (
	"context"
	"errors"
	"net/http"
	"time"

	"sessionguard/api"
	"sessionguard/server/passwd"
	"sessionguard/server/store"
	"sessionguard/server/token"
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
	if err := checkPasswordPolicy(password, u, "password"); err != nil {
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
	a := store.Account{ID: token.NewID("acc_"), Username: u, PasswordHash: hash, CreatedAt: s.now()}
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
	// The body is read here, not by withBody: a closed server refuses
	// before reading anything.
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

// checkPasswordPolicy checks a new password for the account username
// against the policy (passwd.Check); a refusal is weak_password, naming
// the request's field.
func checkPasswordPolicy(password, username, field string) error {
	err := passwd.Check(password, username)
	var pe *passwd.PolicyError
	if errors.As(err, &pe) {
		return &apiError{status: http.StatusBadRequest, code: api.CodeWeakPassword,
			msg: pe.Reason, details: map[string]any{api.DetailField: field}}
	}
	return err
}

func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) error {
	self := callerFrom(r.Context()).session
	acct, err := s.account(r.Context(), self.AccountID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, api.MeResponse{Account: accountView(acct), Session: sessionView(self, self.ID)})
	return nil
}

// account reads an account the request is about, answering a store
// failure as storeErr does.
func (s *Server) account(ctx context.Context, id string) (store.Account, error) {
	acct, err := s.store.Account(ctx, id)
	if err != nil {
		return store.Account{}, storeErr(err)
	}
	return acct, nil
}

func accountView(a store.Account) api.Account {
	return api.Account{ID: a.ID, Username: a.Username, CreatedAt: a.CreatedAt, MFAEnabled: a.MFAEnabled}
}
