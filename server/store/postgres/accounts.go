package postgres

import (
	"context"

	"github.com/jackc/pgx/v5"

	"sessionguard/server/store"
	"sessionguard/server/store/internal/columns"
)

// CreateAccount inserts a, or returns store.ErrUsernameTaken. The unique
// index on usernames decides between concurrent callers.
func (s *Store) CreateAccount(ctx context.Context, a store.Account) error {
	return s.run(ctx, "create account", func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, `INSERT INTO accounts (`+columns.Account+`) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			a.ID, a.Username, a.PasswordHash, a.CreatedAt, a.MFAEnabled, a.TOTPSecret, a.TOTPPendingSecret)
		return err
	})
}

// AccountByUsername finds an account by its lower-case username.
func (s *Store) AccountByUsername(ctx context.Context, username string) (store.Account, error) {
	var a store.Account
	err := s.run(ctx, "account by username", func(ctx context.Context) (err error) {
		a, err = scanAccount(s.pool.QueryRow(ctx, `SELECT `+columns.Account+` FROM accounts WHERE username = $1`, username))
		return notFound(err)
	})
	return a, err
}

// Account finds an account by ID.
func (s *Store) Account(ctx context.Context, id string) (store.Account, error) {
	var a store.Account
	err := s.run(ctx, "account", func(ctx context.Context) (err error) {
		a, err = scanAccount(s.pool.QueryRow(ctx, `SELECT `+columns.Account+` FROM accounts WHERE id = $1`, id))
		return notFound(err)
	})
	return a, err
}

// ChangePassword stores c.NewHash if the account's hash is still c.OldHash
// and, in the same transaction, when c.Revoke is set ends every live
// session but c.KeepSessionID, deletes the account's remembered logins and
// MFA tokens and, when c.Audit is set, appends its event. It returns
// store.ErrConflict if the hash changed, store.ErrNotFound for an unknown
// account; either way nothing is written. The account row is locked FOR
// UPDATE first, so concurrent changes from one hash queue and all but the
// first find it changed; then sessions (in ID order) and remembered logins
// (in hash order), as the package doc says.
func (s *Store) ChangePassword(ctx context.Context, c store.PasswordChange) ([]store.Session, int, error) {
	var (
		ended     []store.Session
		forgotten int
	)
	err := s.tx(ctx, "change password", func(ctx context.Context, tx pgx.Tx) error {
		ended, forgotten = nil, 0
		var hash string
		if err := tx.QueryRow(ctx, `SELECT password_hash FROM accounts WHERE id = $1 FOR UPDATE`, c.AccountID).Scan(&hash); err != nil {
			return notFound(err)
		}
		if hash != c.OldHash {
			return store.ErrConflict
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts SET password_hash = $2 WHERE id = $1`, c.AccountID, c.NewHash); err != nil {
			return err
		}
		if r := c.Revoke; r != nil {
			rows, err := tx.Query(ctx, revokeOthersSQL, append(revokeArgs(*r, false), c.AccountID, c.KeepSessionID)...)
			if err != nil {
				return err
			}
			if ended, err = collectSessions(rows, 8); err != nil {
				return err
			}
			sortLikeList(ended)
			if err := issueClosuresTx(ctx, tx, ended, store.RevokeEffects{Closure: c.Closure}, r.At); err != nil {
				return err
			}
		}
		var err error
		if forgotten, err = countTx(ctx, tx, forgetAllSQL, c.AccountID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM mfa_tokens WHERE account_id = $1`, c.AccountID); err != nil {
			return err
		}
		if c.Audit != nil {
			return appendAuditTx(ctx, tx, c.AccountID, c.Audit(ended, forgotten))
		}
		return nil
	})
	if err != nil {
		return nil, 0, err
	}
	return ended, forgotten, nil
}
