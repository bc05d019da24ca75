package server

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"sessionguard/api"
	"sessionguard/server/passwd"
	"sessionguard/server/store"
)

// AdminDeviceName is who the operator commands' audit events and events
// name as having acted ("Logged out by Server administrator").
const AdminDeviceName = "Server administrator"

// ErrNoAccount is returned by the Admin methods for an unknown username.
var ErrNoAccount = errors.New("no such account")

// The operator commands (sessiond user reset-mfa, logout-all,
// set-password) are for the owner who is locked out anyway: they change
// the database directly, with or without a server running on it, and
// audit as admin.*. A running server honours them at once: every request
// reads its session from the database, and their events reach the open
// streams through the outbox (StartBackground), within OutboxPoll.

// adminAccount finds the account an operator command is about.
func (s *Server) adminAccount(ctx context.Context, username string) (store.Account, error) {
	a, err := s.store.AccountByUsername(ctx, lower(username))
	if errors.Is(err, store.ErrNotFound) {
		return a, fmt.Errorf("%w: %q", ErrNoAccount, username)
	}
	return a, err
}

func adminEvent(typ, detail string) api.AuditEvent {
	return api.AuditEvent{Type: typ, DeviceName: AdminDeviceName, Detail: detail}
}

// AdminResetMFA turns two-step verification off for the account and
// deletes its recovery codes, so the owner can sign in with the password
// alone (after someone else turned it on, say). It reports whether it was
// on; audited as admin.reset_mfa either way.
func (s *Server) AdminResetMFA(ctx context.Context, username string) (wasOn bool, err error) {
	acct, err := s.adminAccount(ctx, username)
	if err != nil {
		return false, err
	}
	if wasOn, err = s.store.DisableTOTP(ctx, acct.ID); err != nil {
		return false, err
	}
	detail := "Two-step verification turned off by the server administrator; recovery codes deleted"
	if !wasOn {
		detail = "Two-step verification reset by the server administrator (it was off)"
	}
	if _, err := s.store.AppendAudit(ctx, acct.ID, s.stamp(adminEvent(api.AuditAdminResetMFA, detail))); err != nil {
		return wasOn, err
	}
	return wasOn, s.sendToServers(ctx, Event{AccountID: acct.ID, Name: api.EventSessionsChanged, Data: api.SessionsChangedEvent{}})
}

// AdminLogoutAll ends every session of the account (reason admin) and
// deletes all its saved logins; the devices are told at once. It returns
// how many sessions it ended; audited as admin.logout_all.
func (s *Server) AdminLogoutAll(ctx context.Context, username string) (int, error) {
	acct, err := s.adminAccount(ctx, username)
	if err != nil {
		return 0, err
	}
	rev := store.Revocation{At: s.now(), Reason: api.ReasonAdmin, ByDeviceName: AdminDeviceName}
	fx := store.RevokeEffects{Forget: true, Audit: func(ended []store.Session, forgotten int) api.AuditEvent {
		d := fmt.Sprintf("The server administrator logged out %s", plural(len(ended), "device")) + forgottenDetail(forgotten)
		return s.stamp(adminEvent(api.AuditAdminLogoutAll, d))
	}}
	ended, err := s.store.RevokeOtherSessions(ctx, acct.ID, "", rev, fx)
	if err != nil {
		return 0, err
	}
	return len(ended), s.sendToServers(ctx, endedEvents(acct.ID, ended, nil)...)
}

// AdminSetPassword gives the account a new password (the policy applies),
// which, as any password change, deletes its saved logins and half-done
// sign-ins; unless keepSessions, it also ends every session (reason
// admin). It returns how many sessions it ended; audited as
// admin.set_password.
func (s *Server) AdminSetPassword(ctx context.Context, username, password string, keepSessions bool) (int, error) {
	acct, err := s.adminAccount(ctx, username)
	if err != nil {
		return 0, err
	}
	if len(password) > maxPassword {
		return 0, errors.New("the password is too long")
	}
	if err := passwd.Check(password, acct.Username); err != nil {
		return 0, err
	}
	hash, err := s.hash(ctx, password)
	if err != nil {
		return 0, err
	}
	now := s.now()
	for range 3 { // another change may win between the read and the write
		change := store.PasswordChange{AccountID: acct.ID, OldHash: acct.PasswordHash, NewHash: hash,
			Audit: func(ended []store.Session, forgotten int) api.AuditEvent {
				d := "Password set by the server administrator"
				if !keepSessions {
					d += fmt.Sprintf("; logged out %s", plural(len(ended), "device"))
				}
				return s.stamp(adminEvent(api.AuditAdminSetPassword, d+forgottenDetail(forgotten)))
			}}
		if !keepSessions {
			change.Revoke = &store.Revocation{At: now, Reason: api.ReasonAdmin, ByDeviceName: AdminDeviceName}
		}
		ended, _, err := s.store.ChangePassword(ctx, change)
		if errors.Is(err, store.ErrConflict) {
			if acct, err = s.store.Account(ctx, acct.ID); err != nil {
				return 0, err
			}
			continue
		}
		if err != nil {
			return 0, err
		}
		events := append([]Event{{AccountID: acct.ID, Name: api.EventPasswordChanged,
			Data: api.PasswordChangedEvent{At: now, ByDeviceName: AdminDeviceName}}}, endedEvents(acct.ID, ended, nil)...)
		return len(ended), s.sendToServers(ctx, events...)
	}
	return 0, errors.New("the password kept changing meanwhile; try again")
}

// sendToServers writes events to the outbox, where every server running on
// the database (StartBackground) picks them up for its streams. It is how
// a process without streams, an operator command, reaches the devices.
func (s *Server) sendToServers(ctx context.Context, events ...Event) error {
	for _, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		if _, err := s.store.AppendOutbox(ctx, s.now(), b); err != nil {
			return fmt.Errorf("telling running servers: %w", err)
		}
	}
	return nil
}

// decodeOutbox reads an outbox entry back into an event, its payload kept
// as the JSON it was written as.
func decodeOutbox(data []byte) (Event, bool) {
	var raw struct {
		Event
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(data, &raw); err != nil || raw.AccountID == "" || raw.Name == "" {
		return Event{}, false
	}
	e := raw.Event
	e.Data = raw.Data
	return e, true
}
