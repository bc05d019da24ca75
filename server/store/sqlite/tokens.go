package sqlite

import (
	"context"
	"database/sql"
	"time"

	"sessionguard/server/store"
)

// RefreshToken finds a refresh token record by hash.
func (s *Store) RefreshToken(ctx context.Context, h []byte) (store.RefreshToken, error) {
	var (
		rt              store.RefreshToken
		issued, expires int64
		rotated         sql.NullInt64
	)
	err := s.st.refreshToken.QueryRowContext(ctx, h).Scan(&rt.Hash, &rt.SessionID, &issued, &expires, &rotated)
	if err != nil {
		return store.RefreshToken{}, s.notFound("refresh token", err)
	}
	rt.IssuedAt = fromMicros(issued)
	rt.ExpiresAt = fromMicros(expires)
	rt.RotatedAt = fromNullMicros(rotated)
	return rt, nil
}

// RotateRefreshToken marks every live refresh token of the session rotated
// at rot.New.IssuedAt, inserts rot.New (as the session's, whatever
// rot.New.SessionID says) and replaces the access token, in one IMMEDIATE
// transaction. It returns store.ErrRevoked and changes nothing if the
// session is revoked, store.ErrNotFound if there is no such session.
func (s *Store) RotateRefreshToken(ctx context.Context, rot store.Rotation) error {
	const op = "rotate refresh token"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(op, err)
	}
	defer tx.Rollback()
	res, err := tx.StmtContext(ctx, s.st.rotateSession).ExecContext(ctx,
		nonNil(rot.AccessHash), micros(rot.AccessExpiresAt), micros(rot.LastSeenAt), micros(rot.ExpiresAt), rot.SessionID)
	if err != nil {
		return s.wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrap(op, err)
	}
	if n == 0 {
		return s.whyUnchanged(ctx, op, tx.StmtContext(ctx, s.st.txSessionRevoked).QueryRowContext(ctx, rot.SessionID))
	}
	if _, err := tx.StmtContext(ctx, s.st.rotateTokens).ExecContext(ctx, micros(rot.New.IssuedAt), rot.SessionID); err != nil {
		return s.wrap(op, err)
	}
	nt := rot.New
	if _, err := tx.StmtContext(ctx, s.st.insertRefresh).ExecContext(ctx,
		nonNil(nt.Hash), rot.SessionID, micros(nt.IssuedAt), micros(nt.ExpiresAt), nullMicros(nt.RotatedAt)); err != nil {
		return s.wrap(op, err)
	}
	return s.wrap(op, tx.Commit())
}

// CreateRemembered inserts a remembered-login credential.
func (s *Store) CreateRemembered(ctx context.Context, r store.Remembered) error {
	_, err := s.st.createRemembered.ExecContext(ctx, nonNil(r.Hash), r.AccountID, r.DeviceID, r.DeviceName,
		micros(r.CreatedAt), micros(r.ExpiresAt), micros(r.AuthTime), nullBytes(r.InstallHash))
	return s.wrap("create remembered login", err)
}

// ConsumeRemembered deletes and returns the credential with hash h if it
// has not expired at now (single use); store.ErrNotFound otherwise. An
// expired credential is deleted too: it can never be used again.
func (s *Store) ConsumeRemembered(ctx context.Context, h []byte, now time.Time) (store.Remembered, error) {
	r, err := scanRemembered(s.st.consumeRemembered.QueryRowContext(ctx, h))
	if err != nil {
		return store.Remembered{}, s.notFound("consume remembered login", err)
	}
	if !r.ExpiresAt.After(now) {
		return store.Remembered{}, store.ErrNotFound
	}
	return r, nil
}

// DeleteRemembered deletes and returns the credential with hash h.
func (s *Store) DeleteRemembered(ctx context.Context, h []byte) (store.Remembered, error) {
	r, err := scanRemembered(s.st.deleteRemembered.QueryRowContext(ctx, h))
	if err != nil {
		return store.Remembered{}, s.notFound("delete remembered login", err)
	}
	return r, nil
}

// DeleteRememberedForDevice deletes the account's credentials for one device.
func (s *Store) DeleteRememberedForDevice(ctx context.Context, accountID, deviceID string) (int, error) {
	return s.affected(ctx, "delete remembered logins", s.st.deleteRemDevice, accountID, deviceID)
}

// DeleteRememberedExcept deletes the account's credentials of every device
// but exceptDeviceID (empty: all of them).
func (s *Store) DeleteRememberedExcept(ctx context.Context, accountID, exceptDeviceID string) (int, error) {
	if exceptDeviceID == "" {
		return s.affected(ctx, "delete remembered logins", s.st.deleteRemAll, accountID)
	}
	return s.affected(ctx, "delete remembered logins", s.st.deleteRemExcept, accountID, exceptDeviceID)
}

func (s *Store) affected(ctx context.Context, op string, st *sql.Stmt, args ...any) (int, error) {
	res, err := st.ExecContext(ctx, args...)
	return s.rowsAffected(op, res, err)
}

// affectedTx is affected inside tx.
func (s *Store) affectedTx(ctx context.Context, tx *sql.Tx, op string, st *sql.Stmt, args ...any) (int, error) {
	res, err := tx.StmtContext(ctx, st).ExecContext(ctx, args...)
	return s.rowsAffected(op, res, err)
}

// rowsAffected reads how many rows a statement that returned res and err
// changed.
func (s *Store) rowsAffected(op string, res sql.Result, err error) (int, error) {
	if err != nil {
		return 0, s.wrap(op, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, s.wrap(op, err)
	}
	return int(n), nil
}

// scanRemembered reads one row of a DELETE … RETURNING. QueryRow's Scan
// steps the statement to completion and closes it, which commits the delete.
func scanRemembered(row *sql.Row) (store.Remembered, error) {
	var (
		r                      store.Remembered
		created, expires, auth int64
	)
	if err := row.Scan(&r.Hash, &r.AccountID, &r.DeviceID, &r.DeviceName, &created, &expires, &auth, &r.InstallHash); err != nil {
		return store.Remembered{}, err
	}
	r.CreatedAt = fromMicros(created)
	r.ExpiresAt = fromMicros(expires)
	r.AuthTime = fromMicros(auth)
	return r, nil
}
