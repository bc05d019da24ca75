package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"sessionguard/api"
	"sessionguard/server/store"
	"sessionguard/server/store/internal/columns"
)

// The live sessions of an account in list order. ListSessions and the
// cursor variant keep the same WHERE, so both are range scans of
// sessions_live_by_account in index order, the cursor as the start key.
const (
	listSessionsWhere = `account_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND id <> $3`
	listSessionsSQL   = `SELECT ` + columns.Session + ` FROM sessions WHERE ` + listSessionsWhere + `
		ORDER BY last_seen_at DESC, id DESC LIMIT $4`
	listSessionsAfterSQL = `SELECT ` + columns.Session + ` FROM sessions WHERE ` + listSessionsWhere + `
		AND (last_seen_at, id) < ($4, $5)
		ORDER BY last_seen_at DESC, id DESC LIMIT $6`
)

// revokeOthersSQL ends the live sessions of account $5 but $6 (live at $1)
// and returns them. It locks them first in id order: concurrent calls (and
// ChangePassword) lock in the same order, so they queue instead of
// deadlocking, and a session another call revoked meanwhile is re-checked
// under its lock and skipped.
var revokeOthersSQL = `WITH target AS (
		SELECT id FROM sessions
		WHERE account_id = $5 AND id <> $6 AND revoked_at IS NULL AND expires_at > $1
		ORDER BY id
		FOR UPDATE
	)
	UPDATE sessions AS s
	SET revoked_at = $1, revoke_reason = $2, revoked_by_session = $3, revoked_by_device_name = $4
	FROM target
	WHERE s.id = target.id AND s.revoked_at IS NULL
	RETURNING ` + qualified("s", columns.Session)

// upsertInstallSQL records install $2 of account $1 as used at $3.
const upsertInstallSQL = `INSERT INTO known_installs (account_id, install_hash, first_seen, last_used)
	VALUES ($1, $2, $3, $3)
	ON CONFLICT (account_id, install_hash) DO UPDATE
	SET first_seen = LEAST(known_installs.first_seen, EXCLUDED.first_seen),
		last_used = GREATEST(known_installs.last_used, EXCLUDED.last_used)`

// CreateSession inserts s with its first refresh token, which is stored as
// belonging to s whatever rt.SessionID says, records s.InstallHash (if
// any) as a known install of the account and appends the audit events, in
// one transaction: a token hash already in use stores none of them.
// ReauthFailures starts at 0 whatever s says. The known install is a
// child row of the account, inserted after the session (see the package
// doc); concurrent sign-ins from one install queue on its row.
func (s *Store) CreateSession(ctx context.Context, ses store.Session, rt store.RefreshToken, audit ...api.AuditEvent) error {
	return s.tx(ctx, "create session", func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO sessions (`+columns.Session+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27)`,
			sessionArgs(ses)...); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO refresh_tokens (`+columns.Refresh+`) VALUES ($1, $2, $3, $4, $5)`,
			nonNil(rt.Hash), ses.ID, rt.IssuedAt, rt.ExpiresAt, rt.RotatedAt); err != nil {
			return err
		}
		if len(ses.InstallHash) > 0 {
			if _, err := tx.Exec(ctx, upsertInstallSQL, ses.AccountID, ses.InstallHash, ses.CreatedAt); err != nil {
				return err
			}
		}
		return appendAuditTx(ctx, tx, ses.AccountID, audit...)
	})
}

// Session finds a session by ID (revoked ones too).
func (s *Store) Session(ctx context.Context, id string) (store.Session, error) {
	return s.oneSession(ctx, "session", `SELECT `+columns.Session+` FROM sessions WHERE id = $1`, id)
}

// SessionByAccessHash finds the session whose current access token hashes
// to h, revoked ones too, so that a caller can say why a token stopped
// working.
func (s *Store) SessionByAccessHash(ctx context.Context, h []byte) (store.Session, error) {
	return s.oneSession(ctx, "session by access hash", `SELECT `+columns.Session+` FROM sessions WHERE access_hash = $1`, nonNil(h))
}

func (s *Store) oneSession(ctx context.Context, op, query string, args ...any) (store.Session, error) {
	var ses store.Session
	err := s.run(ctx, op, func(ctx context.Context) (err error) {
		ses, err = scanSession(s.pool.QueryRow(ctx, query, args...))
		return notFound(err)
	})
	return ses, err
}

// TouchSession records use of a live session: store.ErrRevoked if it is
// revoked, store.ErrNotFound if there is no such session.
func (s *Store) TouchSession(ctx context.Context, id string, t store.Touch) error {
	l := t.Location
	return s.updateLive(ctx, "touch session", id, `UPDATE sessions SET last_seen_at = $2, expires_at = $3, ip = $4,
			loc_city = $5, loc_region = $6, loc_country = $7, loc_country_code = $8
		WHERE id = $1 AND revoked_at IS NULL`,
		t.LastSeenAt, t.ExpiresAt, t.IP, l.City, l.Region, l.Country, l.CountryCode)
}

// SetAuthTime records a fresh password proof on a live session and resets
// its re-auth failures: store.ErrRevoked if it is revoked,
// store.ErrNotFound if there is no such session.
func (s *Store) SetAuthTime(ctx context.Context, id string, at time.Time) error {
	return s.updateLive(ctx, "set auth time", id,
		`UPDATE sessions SET auth_time = $2, reauth_failures = 0 WHERE id = $1 AND revoked_at IS NULL`, at)
}

// FailReauth adds one to a live session's re-auth failures and returns the
// new count: one conditional UPDATE … RETURNING, so concurrent calls queue
// on the row's lock and each gets its own count. store.ErrRevoked if the
// session is revoked, store.ErrNotFound if there is no such session.
func (s *Store) FailReauth(ctx context.Context, id string) (int, error) {
	var n int
	err := s.run(ctx, "fail re-auth", func(ctx context.Context) error {
		err := s.pool.QueryRow(ctx, `UPDATE sessions SET reauth_failures = reauth_failures + 1
			WHERE id = $1 AND revoked_at IS NULL RETURNING reauth_failures`, id).Scan(&n)
		if errors.Is(err, pgx.ErrNoRows) {
			return whyUnchanged(ctx, s.pool, id)
		}
		return err
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// KnownInstall reports whether the account has a known install with hash
// h (recorded by CreateSession, not purged). An empty h is never known.
func (s *Store) KnownInstall(ctx context.Context, accountID string, h []byte) (bool, error) {
	if len(h) == 0 {
		return false, nil
	}
	var known bool
	err := s.run(ctx, "known install", func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT FROM known_installs WHERE account_id = $1 AND install_hash = $2)`,
			accountID, h).Scan(&known)
	})
	return known, err
}

// updateLive runs query, an UPDATE … WHERE id = $1 AND revoked_at IS NULL
// with args from $2, and explains it if it changed nothing.
func (s *Store) updateLive(ctx context.Context, op, id, query string, args ...any) error {
	var n int64
	err := s.run(ctx, op, func(ctx context.Context) error {
		tag, err := s.pool.Exec(ctx, query, append([]any{id}, args...)...)
		n = tag.RowsAffected()
		return err
	})
	if err != nil || n > 0 {
		return err
	}
	return s.run(ctx, op, func(ctx context.Context) error { return whyUnchanged(ctx, s.pool, id) })
}

// whyUnchanged explains a write to a live session that changed nothing:
// store.ErrNotFound if there is no such session, store.ErrRevoked if it is
// revoked. A revocation is final, so the answer cannot go stale.
func whyUnchanged(ctx context.Context, q querier, id string) error {
	var revoked bool
	if err := q.QueryRow(ctx, `SELECT revoked_at IS NOT NULL FROM sessions WHERE id = $1`, id).Scan(&revoked); err != nil {
		return notFound(err)
	}
	if revoked {
		return store.ErrRevoked
	}
	return errChanged
}

// ListSessions returns up to limit live sessions of the account (not
// revoked, ExpiresAt after now), excluding excludeID, ordered by LastSeenAt
// then ID, both descending, starting after the cursor if any. A limit of 0
// or less returns nothing.
func (s *Store) ListSessions(ctx context.Context, accountID, excludeID string, now time.Time, after *store.SessionCursor, limit int) ([]store.Session, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []store.Session
	err := s.run(ctx, "list sessions", func(ctx context.Context) error {
		var (
			rows pgx.Rows
			err  error
		)
		if after == nil {
			rows, err = s.pool.Query(ctx, listSessionsSQL, accountID, now, excludeID, limit)
		} else {
			rows, err = s.pool.Query(ctx, listSessionsAfterSQL, accountID, now, excludeID, after.LastSeenAt, after.ID, limit)
		}
		if err != nil {
			return err
		}
		out, err = collectSessions(rows, min(limit, 64))
		return err
	})
	return out, err
}

// RevokeSession ends one live session of the account and makes the writes
// fx asks for, in one transaction. It returns the revoked session,
// store.ErrNotFound if the account has no such session, or
// store.ErrRevoked with the session as it is if it was already revoked;
// either way it writes nothing. Its UPDATE is conditional on the session
// being live, so of concurrent callers exactly one wins; the winner holds
// the session row until it commits, then deletes remembered logins in hash
// order (see the package doc).
func (s *Store) RevokeSession(ctx context.Context, accountID, id string, r store.Revocation, fx store.RevokeEffects) (store.Session, error) {
	const op = "revoke session"
	var got []store.Session
	err := s.tx(ctx, op, func(ctx context.Context, tx pgx.Tx) error {
		got = nil
		rows, err := tx.Query(ctx, `UPDATE sessions
			SET revoked_at = $3, revoke_reason = $4, revoked_by_session = $5, revoked_by_device_name = $6
			WHERE id = $1 AND account_id = $2 AND revoked_at IS NULL
			RETURNING `+columns.Session, id, accountID, r.At, r.Reason, r.BySessionID, r.ByDeviceName)
		if err != nil {
			return err
		}
		if got, err = collectSessions(rows, 1); err != nil || len(got) == 0 {
			return err // nothing changed: the empty transaction commits nothing
		}
		forgotten := 0
		if fx.Forget {
			if forgotten, err = countTx(ctx, tx, forgetDeviceSQL, accountID, got[0].Device.ID); err != nil {
				return err
			}
		}
		if fx.Audit != nil {
			return appendAuditTx(ctx, tx, accountID, fx.Audit(got, forgotten))
		}
		return nil
	})
	if err != nil {
		return store.Session{}, err
	}
	if len(got) == 1 {
		return got[0], nil
	}
	// Nothing changed: no such session of this account, or revoked already
	// (committed before our UPDATE got the row, so visible to this later
	// statement).
	ses, err := s.oneSession(ctx, op, `SELECT `+columns.Session+` FROM sessions WHERE id = $1 AND account_id = $2`, id, accountID)
	switch {
	case err != nil:
		return store.Session{}, err
	case ses.Revoked == nil:
		return store.Session{}, s.wrap(ctx, op, errChanged)
	}
	return ses, store.ErrRevoked
}

// RevokeOtherSessions ends every live session of the account but keepID
// and makes the writes fx asks for, in one transaction, returning the
// sessions it ended ordered like ListSessions. It locks the sessions in
// ID order first, then the remembered logins it deletes in hash order, so
// concurrent calls never both end the same session and never deadlock (see
// the package doc).
func (s *Store) RevokeOtherSessions(ctx context.Context, accountID, keepID string, r store.Revocation, fx store.RevokeEffects) ([]store.Session, error) {
	var out []store.Session
	err := s.tx(ctx, "revoke other sessions", func(ctx context.Context, tx pgx.Tx) error {
		out = nil
		rows, err := tx.Query(ctx, revokeOthersSQL, r.At, r.Reason, r.BySessionID, r.ByDeviceName, accountID, keepID)
		if err != nil {
			return err
		}
		if out, err = collectSessions(rows, 8); err != nil {
			return err
		}
		sortLikeList(out)
		forgotten := 0
		switch {
		case !fx.Forget:
		case fx.KeepDeviceID == "":
			forgotten, err = countTx(ctx, tx, forgetAllSQL, accountID)
		default:
			forgotten, err = countTx(ctx, tx, forgetExceptSQL, accountID, fx.KeepDeviceID)
		}
		if err != nil {
			return err
		}
		if fx.Audit != nil {
			return appendAuditTx(ctx, tx, accountID, fx.Audit(out, forgotten))
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// RenameSession sets the device name of a session of the account that is
// not revoked and appends the event audit makes from the session as it
// was, in one transaction. It first reads the session FOR NO KEY UPDATE,
// the lock its UPDATE takes anyway: a concurrent rename or revocation of
// the session waits for it (or it for them) and then reads the row as
// that one left it, so a rename never starts from a name another rename
// replaced, and never renames a session revoked meanwhile. It locks one
// session row and nothing else, so it takes part in no lock cycle.
// store.ErrNotFound if the account has no such session, store.ErrRevoked
// if it is revoked; either way it writes nothing.
func (s *Store) RenameSession(ctx context.Context, accountID, id, name string, audit store.SessionAuditFunc) (store.Session, error) {
	var after store.Session
	err := s.tx(ctx, "rename session", func(ctx context.Context, tx pgx.Tx) error {
		before, err := scanSession(tx.QueryRow(ctx, `SELECT `+columns.Session+` FROM sessions
			WHERE id = $1 AND account_id = $2 FOR NO KEY UPDATE`, id, accountID))
		if err != nil {
			return notFound(err)
		}
		if before.Revoked != nil {
			return store.ErrRevoked
		}
		if after, err = scanSession(tx.QueryRow(ctx, `UPDATE sessions SET device_name = $2 WHERE id = $1
			RETURNING `+columns.Session, id, name)); err != nil {
			return err
		}
		if audit != nil {
			return appendAuditTx(ctx, tx, accountID, audit(before))
		}
		return nil
	})
	if err != nil {
		return store.Session{}, err
	}
	return after, nil
}

// errChanged reports a session that a conditional write left alone
// although it exists and is live: it cannot happen, since a revocation is
// final and the writes re-check it under the row's lock.
var errChanged = errors.New("record changed concurrently")
