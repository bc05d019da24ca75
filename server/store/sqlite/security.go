package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"sessionguard/server/store"
	"sessionguard/server/store/internal/rewrite"
)

// ChangePassword stores c.NewHash if the account's hash is still c.OldHash
// and, in the same IMMEDIATE transaction, deletes the account's remembered
// logins and MFA tokens, when c.Revoke is set ends every live session but
// c.KeepSessionID, and when c.Audit is set appends its event. It returns store.ErrConflict if the hash changed,
// store.ErrNotFound for an unknown account; either way nothing is written.
func (s *Store) ChangePassword(ctx context.Context, c store.PasswordChange) ([]store.Session, int, error) {
	const op = "change password"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, 0, s.wrap(op, err)
	}
	defer tx.Rollback()
	res, err := tx.StmtContext(ctx, s.st.updatePassword).ExecContext(ctx, c.NewHash, c.AccountID, c.OldHash)
	if err != nil {
		return nil, 0, s.wrap(op, err)
	}
	if err := s.changedAccount(ctx, tx, op, c.AccountID, res); err != nil {
		return nil, 0, err
	}
	res, err = tx.StmtContext(ctx, s.st.deleteRemAll).ExecContext(ctx, c.AccountID)
	if err != nil {
		return nil, 0, s.wrap(op, err)
	}
	forgotten, err := res.RowsAffected()
	if err != nil {
		return nil, 0, s.wrap(op, err)
	}
	if _, err := tx.StmtContext(ctx, s.st.deleteMFATokens).ExecContext(ctx, c.AccountID); err != nil {
		return nil, 0, s.wrap(op, err)
	}
	var ended []store.Session
	if r := c.Revoke; r != nil {
		rows, err := tx.StmtContext(ctx, s.st.revokeOthers).QueryContext(ctx,
			append(revokeArgs(*r, false), c.AccountID, c.KeepSessionID)...)
		if err != nil {
			return nil, 0, s.wrap(op, err)
		}
		if ended, err = collectSessions(rows, 8); err != nil {
			return nil, 0, s.wrap(op, err)
		}
		sortLikeList(ended)
		if err := s.issueClosuresTx(ctx, tx, op, ended, store.RevokeEffects{Closure: c.Closure}, r.At); err != nil {
			return nil, 0, err
		}
	}
	if c.Audit != nil {
		if err := s.appendAuditTx(ctx, tx, op, c.AccountID, c.Audit(ended, int(forgotten))); err != nil {
			return nil, 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, 0, s.wrap(op, err)
	}
	return ended, int(forgotten), nil
}

// changedAccount explains an UPDATE of one account inside tx that may have
// changed nothing: store.ErrNotFound if the account does not exist,
// store.ErrConflict if it is not in the state the UPDATE required.
func (s *Store) changedAccount(ctx context.Context, tx *sql.Tx, op, accountID string, res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrap(op, err)
	}
	if n > 0 {
		return nil
	}
	var mfa int64
	if err := tx.StmtContext(ctx, s.st.txAccountMFA).QueryRowContext(ctx, accountID).Scan(&mfa); err != nil {
		return s.notFound(op, err)
	}
	return store.ErrConflict
}

// SetTOTPPending stores secret as the account's pending TOTP secret while
// two-step verification is off: store.ErrConflict while it is on,
// store.ErrNotFound for an unknown account.
func (s *Store) SetTOTPPending(ctx context.Context, accountID, secret string) error {
	const op = "set pending TOTP secret"
	res, err := s.st.setTOTPPending.ExecContext(ctx, secret, accountID)
	if err != nil {
		return s.wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrap(op, err)
	}
	if n > 0 {
		return nil
	}
	return s.conflictOrNotFound(ctx, op, accountID)
}

// EnableTOTP turns two-step verification on with the pending secret if it
// is still secret, records step as used, replaces the recovery codes and
// deletes the account's remembered logins, in one IMMEDIATE transaction.
// It returns how many remembered logins it deleted.
func (s *Store) EnableTOTP(ctx context.Context, accountID, secret string, step int64, recoveryHashes [][]byte) (int, error) {
	const op = "enable TOTP"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.wrap(op, err)
	}
	defer tx.Rollback()
	res, err := tx.StmtContext(ctx, s.st.enableTOTP).ExecContext(ctx, step, accountID, secret)
	if err != nil {
		return 0, s.wrap(op, err)
	}
	if err := s.changedAccount(ctx, tx, op, accountID, res); err != nil {
		return 0, err
	}
	if _, err := tx.StmtContext(ctx, s.st.deleteRecovery).ExecContext(ctx, accountID); err != nil {
		return 0, s.wrap(op, err)
	}
	ins := tx.StmtContext(ctx, s.st.insertRecovery)
	for _, h := range recoveryHashes {
		if _, err := ins.ExecContext(ctx, accountID, nonNil(h)); err != nil {
			return 0, s.wrap(op, err)
		}
	}
	forgotten, err := s.affectedTx(ctx, tx, op, s.st.deleteRemAll, accountID)
	if err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, s.wrap(op, err)
	}
	return forgotten, nil
}

// DisableTOTP turns two-step verification off and deletes the account's
// recovery codes and MFA tokens, in one IMMEDIATE transaction. It reports
// whether verification was on.
func (s *Store) DisableTOTP(ctx context.Context, accountID string) (bool, error) {
	const op = "disable TOTP"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return false, s.wrap(op, err)
	}
	defer tx.Rollback()
	var mfa int64
	if err := tx.StmtContext(ctx, s.st.txAccountMFA).QueryRowContext(ctx, accountID).Scan(&mfa); err != nil {
		return false, s.notFound(op, err)
	}
	for _, st := range []*sql.Stmt{s.st.disableTOTP, s.st.deleteRecovery, s.st.deleteMFATokens} {
		if _, err := tx.StmtContext(ctx, st).ExecContext(ctx, accountID); err != nil {
			return false, s.wrap(op, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return false, s.wrap(op, err)
	}
	return mfa != 0, nil
}

// RewriteTOTPSecrets passes every non-empty TOTP secret and pending secret
// to fn and stores what it returns where it reports a change (see
// rewrite.Walk). It reads accounts a page at a time on the read pool and
// calls fn outside any transaction, so a slow fn never holds the only
// write connection; each account's changes are one IMMEDIATE transaction
// of compare-and-set UPDATEs, which leave a value that changed since it
// was read alone.
func (s *Store) RewriteTOTPSecrets(ctx context.Context, fn func(secret string) (string, bool, error)) (int, error) {
	return rewrite.Walk(ctx, secretsWalk{s}, fn)
}

// secretsWalk is the Store as rewrite.Walk uses it.
type secretsWalk struct{ s *Store }

const opRewrite = "rewrite TOTP secrets"

// SecretsPage is rewrite.Store's SecretsPage.
func (w secretsWalk) SecretsPage(ctx context.Context, after string, limit int) ([]rewrite.Secrets, error) {
	rows, err := w.s.st.totpSecretsPage.QueryContext(ctx, after, limit)
	if err != nil {
		return nil, w.s.wrap(opRewrite, err)
	}
	defer rows.Close()
	var out []rewrite.Secrets
	for rows.Next() {
		var a rewrite.Secrets
		if err := rows.Scan(&a.AccountID, &a.Secret, &a.Pending); err != nil {
			return nil, w.s.wrap(opRewrite, err)
		}
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, w.s.wrap(opRewrite, err)
	}
	return out, nil
}

// WriteSecrets is rewrite.Store's WriteSecrets.
func (w secretsWalk) WriteSecrets(ctx context.Context, accountID string, cs []rewrite.Change) (int, error) {
	s := w.s
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.wrap(opRewrite, err)
	}
	defer tx.Rollback()
	n := 0
	for _, c := range cs {
		st := s.st.rewriteSecret
		if c.Pending {
			st = s.st.rewritePending
		}
		k, err := s.affectedTx(ctx, tx, opRewrite, st, c.New, accountID, c.Old)
		if err != nil {
			return 0, err
		}
		n += k
	}
	if err := tx.Commit(); err != nil {
		return 0, s.wrap(opRewrite, err)
	}
	return n, nil
}

// AccountCount returns the number of accounts.
func (s *Store) AccountCount(ctx context.Context) (int, error) {
	var n int
	if err := s.st.accountCount.QueryRowContext(ctx).Scan(&n); err != nil {
		return 0, s.wrap("count accounts", err)
	}
	return n, nil
}

// UseTOTPStep records step as the account's last used TOTP step if it is
// later than the one recorded, in a single UPDATE, and reports whether it
// was.
func (s *Store) UseTOTPStep(ctx context.Context, accountID string, step int64) (bool, error) {
	const op = "use TOTP step"
	res, err := s.st.useTOTPStep.ExecContext(ctx, step, accountID)
	if err != nil {
		return false, s.wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, s.wrap(op, err)
	}
	if n > 0 {
		return true, nil
	}
	if _, err := s.Account(ctx, accountID); err != nil {
		return false, err
	}
	return false, nil
}

// UseRecoveryCode deletes the account's recovery code with hash h and
// reports whether there was one.
func (s *Store) UseRecoveryCode(ctx context.Context, accountID string, h []byte) (bool, error) {
	n, err := s.affected(ctx, "use recovery code", s.st.useRecoveryCode, accountID, nonNil(h))
	return n > 0, err
}

// RecoveryCodesLeft counts the account's unused recovery codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, accountID string) (int, error) {
	var n int
	if err := s.st.recoveryCodesLeft.QueryRowContext(ctx, accountID).Scan(&n); err != nil {
		return 0, s.wrap("count recovery codes", err)
	}
	return n, nil
}

// ReplaceRecoveryCodes replaces the account's recovery codes by hashes
// while two-step verification is on and appends the event audit makes,
// in one IMMEDIATE transaction (so concurrent calls run one after
// another). It returns how many unused codes it deleted;
// store.ErrConflict while two-step verification is off,
// store.ErrNotFound for an unknown account, either way writing nothing.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, accountID string, hashes [][]byte, audit store.CodesAuditFunc) (int, error) {
	const op = "replace recovery codes"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.wrap(op, err)
	}
	defer tx.Rollback()
	var mfa int64
	if err := tx.StmtContext(ctx, s.st.txAccountMFA).QueryRowContext(ctx, accountID).Scan(&mfa); err != nil {
		return 0, s.notFound(op, err)
	}
	if mfa == 0 {
		return 0, store.ErrConflict
	}
	replaced, err := s.affectedTx(ctx, tx, op, s.st.deleteRecovery, accountID)
	if err != nil {
		return 0, err
	}
	ins := tx.StmtContext(ctx, s.st.insertRecovery)
	for _, h := range hashes {
		if _, err := ins.ExecContext(ctx, accountID, nonNil(h)); err != nil {
			return 0, s.wrap(op, err)
		}
	}
	if audit != nil {
		if err := s.appendAuditTx(ctx, tx, op, accountID, audit(replaced)); err != nil {
			return 0, err
		}
	}
	if err := tx.Commit(); err != nil {
		return 0, s.wrap(op, err)
	}
	return replaced, nil
}

// CreateMFAToken inserts t and sweeps the account's tokens that expired by
// t.CreatedAt, in one IMMEDIATE transaction.
func (s *Store) CreateMFAToken(ctx context.Context, t store.MFAToken) error {
	const op = "create MFA token"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(op, err)
	}
	defer tx.Rollback()
	if _, err := tx.StmtContext(ctx, s.st.sweepMFATokens).ExecContext(ctx, t.AccountID, micros(t.CreatedAt)); err != nil {
		return s.wrap(op, err)
	}
	d := t.Device
	if _, err := tx.StmtContext(ctx, s.st.insertMFAToken).ExecContext(ctx, nonNil(t.Hash), t.AccountID,
		d.ID, d.Name, d.Platform, d.OS, d.Model, d.AppVersion,
		boolInt(t.Remember), nullBytes(t.InstallHash), micros(t.CreatedAt), micros(t.ExpiresAt)); err != nil {
		return s.wrap(op, err)
	}
	return s.wrap(op, tx.Commit())
}

// MFAToken finds the token with hash h if it has not expired at now.
func (s *Store) MFAToken(ctx context.Context, h []byte, now time.Time) (store.MFAToken, error) {
	t, err := scanMFAToken(s.st.mfaToken.QueryRowContext(ctx, h, micros(now)))
	if err != nil {
		return store.MFAToken{}, s.notFound("MFA token", err)
	}
	return t, nil
}

// ConsumeMFAToken deletes and returns the token with hash h if it has not
// expired at now; store.ErrNotFound otherwise. An expired token is deleted
// too: it can never be used again.
func (s *Store) ConsumeMFAToken(ctx context.Context, h []byte, now time.Time) (store.MFAToken, error) {
	t, err := scanMFAToken(s.st.consumeMFAToken.QueryRowContext(ctx, h))
	if err != nil {
		return store.MFAToken{}, s.notFound("consume MFA token", err)
	}
	if !t.ExpiresAt.After(now) {
		return store.MFAToken{}, store.ErrNotFound
	}
	return t, nil
}

// conflictOrNotFound explains a single-statement account UPDATE that
// changed nothing: store.ErrNotFound if there is no such account (accounts
// are never deleted, so the answer cannot go stale), else
// store.ErrConflict.
func (s *Store) conflictOrNotFound(ctx context.Context, op, accountID string) error {
	if _, err := s.Account(ctx, accountID); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return err
		}
		return s.wrap(op, err)
	}
	return store.ErrConflict
}

func scanMFAToken(sc scanner) (store.MFAToken, error) {
	var (
		t                         store.MFAToken
		remember, created, expire int64
		d                         = &t.Device
	)
	if err := sc.Scan(&t.Hash, &t.AccountID, &d.ID, &d.Name, &d.Platform, &d.OS, &d.Model, &d.AppVersion,
		&remember, &t.InstallHash, &created, &expire); err != nil {
		return store.MFAToken{}, err
	}
	t.Remember = remember != 0
	t.CreatedAt = fromMicros(created)
	t.ExpiresAt = fromMicros(expire)
	return t, nil
}
