package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"sessionguard/server/store"
	"sessionguard/server/store/internal/columns"
	"sessionguard/server/store/internal/rewrite"
)

// SetTOTPPending stores secret as the account's pending TOTP secret while
// two-step verification is off: store.ErrConflict while it is on,
// store.ErrNotFound for an unknown account.
func (s *Store) SetTOTPPending(ctx context.Context, accountID, secret string) error {
	const op = "set pending TOTP secret"
	var n int64
	err := s.run(ctx, op, func(ctx context.Context) error {
		tag, err := s.pool.Exec(ctx, `UPDATE accounts SET totp_pending_secret = $2 WHERE id = $1 AND NOT mfa_enabled`,
			accountID, secret)
		n = tag.RowsAffected()
		return err
	})
	if err != nil || n > 0 {
		return err
	}
	return s.conflictOrNotFound(ctx, op, accountID)
}

// EnableTOTP turns two-step verification on with the pending secret if it
// is still secret, records step as used, replaces the recovery codes and
// deletes the account's remembered logins, in one transaction that holds
// the account row FOR UPDATE and then locks the remembered logins in hash
// order (see the package doc). It returns how many remembered logins it
// deleted.
func (s *Store) EnableTOTP(ctx context.Context, accountID, secret string, step int64, recoveryHashes [][]byte) (int, error) {
	hashes := make([][]byte, len(recoveryHashes))
	for i, h := range recoveryHashes {
		hashes[i] = nonNil(h)
	}
	var forgotten int
	err := s.tx(ctx, "enable TOTP", func(ctx context.Context, tx pgx.Tx) error {
		forgotten = 0
		var (
			on      bool
			pending string
		)
		if err := tx.QueryRow(ctx, `SELECT mfa_enabled, totp_pending_secret FROM accounts WHERE id = $1 FOR UPDATE`,
			accountID).Scan(&on, &pending); err != nil {
			return notFound(err)
		}
		if on || pending == "" || pending != secret {
			return store.ErrConflict
		}
		if _, err := tx.Exec(ctx, `UPDATE accounts
			SET totp_secret = totp_pending_secret, totp_pending_secret = '', mfa_enabled = true,
				totp_last_step = GREATEST(totp_last_step, $2)
			WHERE id = $1`, accountID, step); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM recovery_codes WHERE account_id = $1`, accountID); err != nil {
			return err
		}
		if len(hashes) > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO recovery_codes (account_id, hash)
				SELECT $1, h FROM unnest($2::bytea[]) AS h ON CONFLICT DO NOTHING`, accountID, hashes); err != nil {
				return err
			}
		}
		var err error
		forgotten, err = countTx(ctx, tx, forgetAllSQL, accountID)
		return err
	})
	if err != nil {
		return 0, err
	}
	return forgotten, nil
}

// DisableTOTP turns two-step verification off and deletes the account's
// recovery codes and MFA tokens, in one transaction that holds the account
// row FOR UPDATE. It reports whether verification was on.
func (s *Store) DisableTOTP(ctx context.Context, accountID string) (bool, error) {
	var wasOn bool
	err := s.tx(ctx, "disable TOTP", func(ctx context.Context, tx pgx.Tx) error {
		if err := tx.QueryRow(ctx, `SELECT mfa_enabled FROM accounts WHERE id = $1 FOR UPDATE`, accountID).Scan(&wasOn); err != nil {
			return notFound(err)
		}
		for _, q := range []string{
			`UPDATE accounts SET totp_secret = '', totp_pending_secret = '', mfa_enabled = false WHERE id = $1`,
			`DELETE FROM recovery_codes WHERE account_id = $1`,
			`DELETE FROM mfa_tokens WHERE account_id = $1`,
		} {
			if _, err := tx.Exec(ctx, q, accountID); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return false, err
	}
	return wasOn, nil
}

// ReplaceRecoveryCodes replaces the account's recovery codes by hashes
// while two-step verification is on and appends the event audit makes, in
// one transaction that first locks the account row FOR NO KEY UPDATE:
// concurrent calls, and DisableTOTP and EnableTOTP (FOR UPDATE), queue on
// it, so the codes left are one call's and never outlive two-step
// verification, while sign-ins (which key-share lock the account) go on.
// It returns how many unused codes it deleted; store.ErrConflict while
// two-step verification is off, store.ErrNotFound for an unknown account,
// either way writing nothing.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, accountID string, hashes [][]byte, audit store.CodesAuditFunc) (int, error) {
	hs := make([][]byte, len(hashes))
	for i, h := range hashes {
		hs[i] = nonNil(h)
	}
	var replaced int
	err := s.tx(ctx, "replace recovery codes", func(ctx context.Context, tx pgx.Tx) error {
		var on bool
		if err := tx.QueryRow(ctx, `SELECT mfa_enabled FROM accounts WHERE id = $1 FOR NO KEY UPDATE`,
			accountID).Scan(&on); err != nil {
			return notFound(err)
		}
		if !on {
			return store.ErrConflict
		}
		var err error
		if replaced, err = countTx(ctx, tx, `DELETE FROM recovery_codes WHERE account_id = $1`, accountID); err != nil {
			return err
		}
		if len(hs) > 0 {
			if _, err := tx.Exec(ctx, `INSERT INTO recovery_codes (account_id, hash)
				SELECT $1, h FROM unnest($2::bytea[]) AS h ON CONFLICT DO NOTHING`, accountID, hs); err != nil {
				return err
			}
		}
		if audit != nil {
			return appendAuditTx(ctx, tx, accountID, audit(replaced))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return replaced, nil
}

// RewriteTOTPSecrets passes every non-empty TOTP secret and pending secret
// to fn and stores what it returns where it reports a change (see
// rewrite.Walk). It reads accounts a page at a time and calls fn outside
// any transaction; each account's changes are then one transaction of
// compare-and-set UPDATEs (each locks the account row, as the package doc
// asks of a first lock), which leave a value that changed since it was
// read alone.
func (s *Store) RewriteTOTPSecrets(ctx context.Context, fn func(secret string) (string, bool, error)) (int, error) {
	return rewrite.Walk(ctx, secretsWalk{s}, fn)
}

// secretsWalk is the Store as rewrite.Walk uses it.
type secretsWalk struct{ s *Store }

const opRewrite = "rewrite TOTP secrets"

// SecretsPage is rewrite.Store's SecretsPage.
func (w secretsWalk) SecretsPage(ctx context.Context, after string, limit int) ([]rewrite.Secrets, error) {
	var out []rewrite.Secrets
	err := w.s.run(ctx, opRewrite, func(ctx context.Context) error {
		rows, err := w.s.pool.Query(ctx, `SELECT id, totp_secret, totp_pending_secret FROM accounts
			WHERE id > $1 AND (totp_secret <> '' OR totp_pending_secret <> '') ORDER BY id LIMIT $2`, after, limit)
		if err != nil {
			return err
		}
		out, err = pgx.CollectRows(rows, func(row pgx.CollectableRow) (a rewrite.Secrets, err error) {
			err = row.Scan(&a.AccountID, &a.Secret, &a.Pending)
			return a, err
		})
		return err
	})
	return out, err
}

// WriteSecrets is rewrite.Store's WriteSecrets.
func (w secretsWalk) WriteSecrets(ctx context.Context, accountID string, cs []rewrite.Change) (int, error) {
	var n int
	err := w.s.tx(ctx, opRewrite, func(ctx context.Context, tx pgx.Tx) error {
		n = 0
		for _, c := range cs {
			q := `UPDATE accounts SET totp_secret = $2 WHERE id = $1 AND totp_secret = $3`
			if c.Pending {
				q = `UPDATE accounts SET totp_pending_secret = $2 WHERE id = $1 AND totp_pending_secret = $3`
			}
			k, err := countTx(ctx, tx, q, accountID, c.New, c.Old)
			if err != nil {
				return err
			}
			n += k
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// AccountCount returns the number of accounts.
func (s *Store) AccountCount(ctx context.Context) (int, error) {
	var n int
	err := s.run(ctx, "count accounts", func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, `SELECT count(*) FROM accounts`).Scan(&n)
	})
	return n, err
}

// UseTOTPStep records step as the account's last used TOTP step if it is
// later than the one recorded, in one conditional UPDATE, and reports
// whether it was.
func (s *Store) UseTOTPStep(ctx context.Context, accountID string, step int64) (bool, error) {
	var n int64
	err := s.run(ctx, "use TOTP step", func(ctx context.Context) error {
		tag, err := s.pool.Exec(ctx, `UPDATE accounts SET totp_last_step = $2 WHERE id = $1 AND totp_last_step < $2`,
			accountID, step)
		n = tag.RowsAffected()
		return err
	})
	if err != nil || n > 0 {
		return n > 0, err
	}
	if _, err := s.Account(ctx, accountID); err != nil {
		return false, err
	}
	return false, nil
}

// UseRecoveryCode deletes the account's recovery code with hash h and
// reports whether there was one.
func (s *Store) UseRecoveryCode(ctx context.Context, accountID string, h []byte) (bool, error) {
	var n int64
	err := s.run(ctx, "use recovery code", func(ctx context.Context) error {
		tag, err := s.pool.Exec(ctx, `DELETE FROM recovery_codes WHERE account_id = $1 AND hash = $2`, accountID, nonNil(h))
		n = tag.RowsAffected()
		return err
	})
	return n > 0, err
}

// RecoveryCodesLeft counts the account's unused recovery codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, accountID string) (int, error) {
	var n int
	err := s.run(ctx, "count recovery codes", func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, `SELECT count(*) FROM recovery_codes WHERE account_id = $1`, accountID).Scan(&n)
	})
	return n, err
}

// CreateMFAToken inserts t and sweeps the account's tokens that expired by
// t.CreatedAt, in one transaction. The insert goes first: it takes the key
// share lock on the account that DisableTOTP and ChangePassword wait for
// before they delete tokens, so the two never wait for each other's rows.
func (s *Store) CreateMFAToken(ctx context.Context, t store.MFAToken) error {
	d := t.Device
	return s.tx(ctx, "create MFA token", func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO mfa_tokens (`+columns.MFAToken+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
			nonNil(t.Hash), t.AccountID, d.ID, d.Name, d.Platform, d.OS, d.Model, d.AppVersion,
			t.Remember, nullBytes(t.InstallHash), t.CreatedAt, t.ExpiresAt); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM mfa_tokens WHERE account_id = $1 AND expires_at <= $2 AND hash <> $3`,
			t.AccountID, t.CreatedAt, nonNil(t.Hash))
		return err
	})
}

// MFAToken finds the token with hash h if it has not expired at now.
func (s *Store) MFAToken(ctx context.Context, h []byte, now time.Time) (store.MFAToken, error) {
	var t store.MFAToken
	err := s.run(ctx, "MFA token", func(ctx context.Context) (err error) {
		t, err = scanMFAToken(s.pool.QueryRow(ctx, `SELECT `+columns.MFAToken+` FROM mfa_tokens WHERE hash = $1 AND expires_at > $2`,
			nonNil(h), now))
		return notFound(err)
	})
	return t, err
}

// ConsumeMFAToken deletes and returns the token with hash h if it has not
// expired at now; store.ErrNotFound otherwise. It is one DELETE …
// RETURNING, so of concurrent callers exactly one gets the token. An
// expired token is deleted too: it can never be used again.
func (s *Store) ConsumeMFAToken(ctx context.Context, h []byte, now time.Time) (store.MFAToken, error) {
	var t store.MFAToken
	err := s.run(ctx, "consume MFA token", func(ctx context.Context) (err error) {
		t, err = scanMFAToken(s.pool.QueryRow(ctx, `DELETE FROM mfa_tokens WHERE hash = $1 RETURNING `+columns.MFAToken, nonNil(h)))
		return notFound(err)
	})
	if err != nil {
		return store.MFAToken{}, err
	}
	if !t.ExpiresAt.After(now) {
		return store.MFAToken{}, store.ErrNotFound
	}
	return t, nil
}

// conflictOrNotFound explains a conditional account UPDATE that changed
// nothing: store.ErrNotFound if there is no such account (accounts are
// never deleted, so the answer cannot go stale), else store.ErrConflict.
func (s *Store) conflictOrNotFound(ctx context.Context, op, accountID string) error {
	var exists bool
	err := s.run(ctx, op, func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM accounts WHERE id = $1)`, accountID).Scan(&exists)
	})
	switch {
	case err != nil:
		return err
	case !exists:
		return store.ErrNotFound
	}
	return store.ErrConflict
}
