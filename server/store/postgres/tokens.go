package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"sessionguard/server/store"
	"sessionguard/server/store/internal/columns"
)

// RefreshToken finds a refresh token record by hash.
func (s *Store) RefreshToken(ctx context.Context, h []byte) (store.RefreshToken, error) {
	var rt store.RefreshToken
	err := s.run(ctx, "refresh token", func(ctx context.Context) error {
		return notFound(s.pool.QueryRow(ctx, `SELECT `+columns.Refresh+` FROM refresh_tokens WHERE hash = $1`, nonNil(h)).
			Scan(&rt.Hash, &rt.SessionID, &rt.IssuedAt, &rt.ExpiresAt, &rt.RotatedAt))
	})
	if err != nil {
		return store.RefreshToken{}, err
	}
	return rt, nil
}

// RotateRefreshToken marks every live refresh token of the session rotated
// at rot.New.IssuedAt, inserts rot.New (as the session's, whatever
// rot.New.SessionID says) and replaces the access token, in one
// transaction. Its first statement updates the session row only if it is
// not revoked, and so holds the row's lock until commit: rotations of one
// session run one after another, and none runs after a revocation (see the
// package doc). It returns store.ErrRevoked and changes nothing if the
// session is revoked, store.ErrNotFound if there is no such session.
func (s *Store) RotateRefreshToken(ctx context.Context, rot store.Rotation) error {
	const op = "rotate refresh token"
	nt := rot.New
	return s.tx(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE sessions
			SET access_hash = $2, access_expires_at = $3, last_seen_at = $4, expires_at = $5
			WHERE id = $1 AND revoked_at IS NULL`,
			rot.SessionID, nonNil(rot.AccessHash), rot.AccessExpiresAt, rot.LastSeenAt, rot.ExpiresAt)
		if err != nil {
			return err
		}
		if tag.RowsAffected() == 0 {
			return whyUnchanged(ctx, tx, rot.SessionID)
		}
		// A fresh snapshot: it sees the token of a rotation that
		// committed while the UPDATE above waited for the row.
		if _, err := tx.Exec(ctx, `UPDATE refresh_tokens SET rotated_at = $2 WHERE session_id = $1 AND rotated_at IS NULL`,
			rot.SessionID, nt.IssuedAt); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO refresh_tokens (`+columns.Refresh+`) VALUES ($1, $2, $3, $4, $5)`,
			nonNil(nt.Hash), rot.SessionID, nt.IssuedAt, nt.ExpiresAt, nt.RotatedAt)
		return err
	})
}

// CreateRemembered inserts a remembered-login credential.
func (s *Store) CreateRemembered(ctx context.Context, r store.Remembered) error {
	return s.run(ctx, "create remembered login", func(ctx context.Context) error {
		_, err := s.pool.Exec(ctx, `INSERT INTO remembered_logins (`+columns.Remembered+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			nonNil(r.Hash), r.AccountID, r.DeviceID, r.DeviceName, r.CreatedAt, r.ExpiresAt, r.AuthTime, nullBytes(r.InstallHash))
		return err
	})
}

// ConsumeRemembered deletes and returns the credential with hash h if it
// has not expired at now (single use: one DELETE … RETURNING, so of
// concurrent callers exactly one gets it); store.ErrNotFound otherwise. An
// expired credential is deleted too: it can never be used again.
func (s *Store) ConsumeRemembered(ctx context.Context, h []byte, now time.Time) (store.Remembered, error) {
	r, err := s.DeleteRemembered(ctx, h)
	if err != nil {
		return store.Remembered{}, err
	}
	if !r.ExpiresAt.After(now) {
		return store.Remembered{}, store.ErrNotFound
	}
	return r, nil
}

// DeleteRemembered deletes and returns the credential with hash h.
func (s *Store) DeleteRemembered(ctx context.Context, h []byte) (store.Remembered, error) {
	var r store.Remembered
	err := s.run(ctx, "delete remembered login", func(ctx context.Context) (err error) {
		r, err = scanRemembered(s.pool.QueryRow(ctx, `DELETE FROM remembered_logins WHERE hash = $1 RETURNING `+columns.Remembered, nonNil(h)))
		return notFound(err)
	})
	if err != nil {
		return store.Remembered{}, err
	}
	return r, nil
}

// DeleteRememberedForDevice deletes the account's credentials for one device.
func (s *Store) DeleteRememberedForDevice(ctx context.Context, accountID, deviceID string) (int, error) {
	return s.affected(ctx, "delete remembered logins", forgetDeviceSQL, accountID, deviceID)
}

// DeleteRememberedExcept deletes the account's credentials of every device
// but exceptDeviceID (empty: all of them).
func (s *Store) DeleteRememberedExcept(ctx context.Context, accountID, exceptDeviceID string) (int, error) {
	if exceptDeviceID == "" {
		return s.affected(ctx, "delete remembered logins", forgetAllSQL, accountID)
	}
	return s.affected(ctx, "delete remembered logins", forgetExceptSQL, accountID, exceptDeviceID)
}

// Statements deleting several remembered logins of account $1 lock them in
// hash order first, so that two of them never wait for each other's rows
// in opposite orders (see the package doc), whatever plans PostgreSQL
// picks: all of them, those of device $2, those of every device but $2.
var (
	forgetAllSQL    = forgetSQL(``)
	forgetDeviceSQL = forgetSQL(` AND device_id = $2`)
	forgetExceptSQL = forgetSQL(` AND device_id <> $2`)
)

func forgetSQL(cond string) string {
	return `WITH target AS (
		SELECT hash FROM remembered_logins WHERE account_id = $1` + cond + `
		ORDER BY hash
		FOR UPDATE
	)
	DELETE FROM remembered_logins AS r USING target WHERE r.hash = target.hash`
}

// countTx runs a statement in tx and returns how many rows it changed.
func countTx(ctx context.Context, tx pgx.Tx, query string, args ...any) (int, error) {
	tag, err := tx.Exec(ctx, query, args...)
	return int(tag.RowsAffected()), err
}

// affected runs a statement and returns how many rows it changed.
func (s *Store) affected(ctx context.Context, op, query string, args ...any) (int, error) {
	var n int64
	err := s.run(ctx, op, func(ctx context.Context) error {
		tag, err := s.pool.Exec(ctx, query, args...)
		n = tag.RowsAffected()
		return err
	})
	return int(n), err
}
