package sqlite

import (
	"context"

	"sessionguard/server/store"
)

// CreateAccount inserts a, or returns store.ErrUsernameTaken.
func (s *Store) CreateAccount(ctx context.Context, a store.Account) error {
	res, err := s.st.createAccount.ExecContext(ctx, a.ID, a.Username, a.PasswordHash, micros(a.CreatedAt), boolInt(a.MFAEnabled),
		a.TOTPSecret, a.TOTPPendingSecret)
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
	)
	if err := sc.Scan(&a.ID, &a.Username, &a.PasswordHash, &createdAt, &mfa, &a.TOTPSecret, &a.TOTPPendingSecret); err != nil {
		return store.Account{}, err
	}
	a.CreatedAt = fromMicros(createdAt)
	a.MFAEnabled = mfa != 0
	return a, nil
}
