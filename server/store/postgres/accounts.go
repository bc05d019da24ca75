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
		_, err := s.pool.Exec(ctx, `INSERT INTO accounts (`+columns.Account+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			a.ID, a.Username, a.PasswordHash, a.CreatedAt, a.MFAEnabled, a.TOTPSecret, a.TOTPPendingSecret,
			secs(a.Settings.AutoLogoutInactiveAfter), a.Settings.ApproveNewDevices)
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

// copyAccountRuleSQL copies account $2's inactivity rule $1 into its live
// sessions, locked first in id order like every multi-session write.
const copyAccountRuleSQL = `WITH target AS (
		SELECT id FROM sessions
		WHERE account_id = $2 AND revoked_at IS NULL AND account_idle_timeout_s <> $1
		ORDER BY id
		FOR NO KEY UPDATE
	)
	UPDATE sessions AS s SET account_idle_timeout_s = $1
	FROM target WHERE s.id = target.id`

// SetSettings replaces the account's settings, copies its inactivity rule
// into every live session of the account and appends audit's event, in
// one transaction. It locks the account row first (FOR NO KEY UPDATE):
// CreateSession reads the rule FOR SHARE, so a sign-in either commits
// before this change, and its session is among those updated here, or
// reads the new rule after it. Then the sessions, in id order.
// store.ErrNotFound for an unknown account.
func (s *Store) SetSettings(ctx context.Context, accountID string, st store.Settings, audit store.SettingsAuditFunc) (store.Settings, error) {
	var before store.Settings
	err := s.tx(ctx, "set settings", func(ctx context.Context, tx pgx.Tx) error {
		var autoOut int32
		if err := tx.QueryRow(ctx, `SELECT auto_logout_inactive_after_s, approve_new_devices FROM accounts
			WHERE id = $1 FOR NO KEY UPDATE`, accountID).Scan(&autoOut, &before.ApproveNewDevices); err != nil {
			return notFound(err)
		}
		before.AutoLogoutInactiveAfter = fromSecs(autoOut)
		rule := secs(st.AutoLogoutInactiveAfter)
		if _, err := tx.Exec(ctx, `UPDATE accounts SET auto_logout_inactive_after_s = $2, approve_new_devices = $3 WHERE id = $1`,
			accountID, rule, st.ApproveNewDevices); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, copyAccountRuleSQL, rule, accountID); err != nil {
			return err
		}
		if audit != nil {
			return appendAuditTx(ctx, tx, accountID, audit(before))
		}
		return nil
	})
	if err != nil {
		return store.Settings{}, err
	}
	return before, nil
}
