package sqlite

import (
	"context"

	"sessionguard/server/store"
)

// CreateAccount inserts a, or returns store.ErrUsernameTaken.
func (s *Store) CreateAccount(ctx context.Context, a store.Account) error {
	res, err := s.st.createAccount.ExecContext(ctx, a.ID, a.Username, a.PasswordHash, micros(a.CreatedAt), boolInt(a.MFAEnabled),
		a.TOTPSecret, a.TOTPPendingSecret, secs(a.Settings.AutoLogoutInactiveAfter), boolInt(a.Settings.ApproveNewDevices))
	if err != nil {
		return s.wrap("create account", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrap("create account", err)
	}
	if n == 0 {
		return store.ErrUsernameTaken
	}
	return nil
}

// AccountByUsername finds an account by its lower-case username.
func (s *Store) AccountByUsername(ctx context.Context, username string) (store.Account, error) {
	a, err := scanAccount(s.st.accountByUsername.QueryRowContext(ctx, username))
	if err != nil {
		return store.Account{}, s.notFound("account by username", err)
	}
	return a, nil
}

// Account finds an account by ID.
func (s *Store) Account(ctx context.Context, id string) (store.Account, error) {
	a, err := scanAccount(s.st.accountByID.QueryRowContext(ctx, id))
	if err != nil {
		return store.Account{}, s.notFound("account", err)
	}
	return a, nil
}

type scanner interface {
	Scan(dest ...any) error
}

func scanAccount(sc scanner) (store.Account, error) {
	var (
		a         store.Account
		createdAt int64
		mfa       int64
		autoOut   int64
		approve   int64
	)
	if err := sc.Scan(&a.ID, &a.Username, &a.PasswordHash, &createdAt, &mfa, &a.TOTPSecret, &a.TOTPPendingSecret,
		&autoOut, &approve); err != nil {
		return store.Account{}, err
	}
	a.CreatedAt = fromMicros(createdAt)
	a.MFAEnabled = mfa != 0
	a.Settings = store.Settings{AutoLogoutInactiveAfter: fromSecs(autoOut), ApproveNewDevices: approve != 0}
	return a, nil
}

// SetSettings replaces the account's settings, copies its inactivity rule
// into every live session of the account and appends audit's event, in
// one IMMEDIATE transaction: with one writer, no session is created
// between the copy and the commit with the old rule.
// store.ErrNotFound for an unknown account.
func (s *Store) SetSettings(ctx context.Context, accountID string, st store.Settings, audit store.SettingsAuditFunc) (store.Settings, error) {
	const op = "set settings"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return store.Settings{}, s.wrap(op, err)
	}
	defer tx.Rollback()
	var autoOut, approve int64
	if err := tx.StmtContext(ctx, s.st.txSettings).QueryRowContext(ctx, accountID).Scan(&autoOut, &approve); err != nil {
		return store.Settings{}, s.notFound(op, err)
	}
	before := store.Settings{AutoLogoutInactiveAfter: fromSecs(autoOut), ApproveNewDevices: approve != 0}
	rule := secs(st.AutoLogoutInactiveAfter)
	if _, err := tx.StmtContext(ctx, s.st.setSettings).ExecContext(ctx, rule, boolInt(st.ApproveNewDevices), accountID); err != nil {
		return store.Settings{}, s.wrap(op, err)
	}
	if _, err := tx.StmtContext(ctx, s.st.copyAccountRule).ExecContext(ctx, rule, accountID); err != nil {
		return store.Settings{}, s.wrap(op, err)
	}
	if audit != nil {
		if err := s.appendAuditTx(ctx, tx, op, accountID, audit(before)); err != nil {
			return store.Settings{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return store.Settings{}, s.wrap(op, err)
	}
	return before, nil
}
