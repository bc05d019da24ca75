package postgres

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"sessionguard/api"
	"sessionguard/server/store"
	"sessionguard/server/store/internal/columns"
)

// The live sessions of an account in list order. ListSessions,
// SearchSessions and their cursor variants keep the same WHERE, so all are
// range scans of sessions_live_by_account in index order, the cursor as
// the start key; a search filters the sessions the scan yields.
const (
	listSessionsWhere = `account_id = $1 AND revoked_at IS NULL AND expires_at > $2 AND id <> $3
		AND (idle_deadline IS NULL OR idle_deadline > $2)`
	listSessionsSQL = `SELECT ` + columns.Session + ` FROM sessions WHERE ` + listSessionsWhere + `
		ORDER BY last_seen_at DESC, id DESC LIMIT $4`
	listSessionsAfterSQL = `SELECT ` + columns.Session + ` FROM sessions WHERE ` + listSessionsWhere + `
		AND (last_seen_at, id) < ($4, $5)
		ORDER BY last_seen_at DESC, id DESC LIMIT $6`
)

var (
	searchSessionsSQL = `SELECT ` + columns.Session + ` FROM sessions WHERE ` + listSessionsWhere + `
		AND ` + matchWhere("$5") + `
		ORDER BY last_seen_at DESC, id DESC LIMIT $4`
	searchSessionsAfterSQL = `SELECT ` + columns.Session + ` FROM sessions WHERE ` + listSessionsWhere + `
		AND (last_seen_at, id) < ($4, $5) AND ` + matchWhere("$7") + `
		ORDER BY last_seen_at DESC, id DESC LIMIT $6`
	countSessionsSQL = countSQL("")
	countMatchingSQL = countSQL(matchWhere("$5"))
)

// searchColumns are the columns a search looks in.
var searchColumns = []string{"device_name", "device_model", "device_os", "loc_city", "loc_region", "loc_country", "ip"}

// matchWhere is the condition of a session matching a search, param the
// LIKE pattern (likePattern) with \ as its escape: lower() on both sides,
// which folds ASCII letters always and others as the database's LC_CTYPE
// says (store.Store.SearchSessions).
func matchWhere(param string) string {
	var b strings.Builder
	b.WriteString("(")
	for i, col := range searchColumns {
		if i > 0 {
			b.WriteString(" OR ")
		}
		b.WriteString("lower(" + col + ") LIKE lower(" + param + `::text) ESCAPE '\'`)
	}
	b.WriteString(")")
	return b.String()
}

// countSQL counts the account's ($1) sessions live at $2 but $3, those of
// them last seen at or after $4, and $3 itself if it is not revoked
// (CountSessions), through sessions_live_by_account; match is the search
// condition on $5, or "".
func countSQL(match string) string {
	q := `SELECT count(*) FILTER (WHERE id <> $3),
			count(*) FILTER (WHERE id <> $3 AND last_seen_at >= $4),
			count(*) FILTER (WHERE id = $3)
		FROM sessions
		WHERE account_id = $1 AND revoked_at IS NULL
			AND (id = $3 OR (expires_at > $2 AND (idle_deadline IS NULL OR idle_deadline > $2)))`
	if match != "" {
		q += ` AND ` + match
	}
	return q
}

// likePattern is the LIKE pattern of the text that contains q, with q's
// wildcards (and the escape character itself) escaped by \.
func likePattern(q string) string {
	return "%" + likeEscaper.Replace(q) + "%"
}

var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// revokeSet is the SET of a revocation, its values $1 to $7 (revokeArgs).
const revokeSet = `revoked_at = $1, revoke_reason = $2, revoked_by_session = $3, revoked_by_device_name = $4,
	revoke_erase = $5, closure_confirmed_at = $6, closure_erased = $7`

// revokeOthersSQL ends the live sessions of account $8 but $9 (live at $1)
// and returns them. It locks them first in id order: concurrent calls (and
// ChangePassword) lock in the same order, so they queue instead of
// deadlocking, and a session another call revoked meanwhile is re-checked
// under its lock and skipped.
var revokeOthersSQL = `WITH target AS (
		SELECT id FROM sessions
		WHERE account_id = $8 AND id <> $9 AND revoked_at IS NULL AND expires_at > $1
		ORDER BY id
		FOR UPDATE
	)
	UPDATE sessions AS s
	SET ` + revokeSet + `
	FROM target
	WHERE s.id = target.id AND s.revoked_at IS NULL
	RETURNING ` + qualified("s", columns.Session)

// revokeArgs are the values $1 to $7 of revokeSet for revocation r; with
// closed (store.RevokeEffects.Closed) the closure is confirmed at r.At.
func revokeArgs(r store.Revocation, closed bool) []any {
	var confirmed *time.Time
	erased := false
	if closed {
		at := r.At
		confirmed, erased = &at, r.Erase
	}
	return []any{r.At, r.Reason, r.BySessionID, r.ByDeviceName, r.Erase, confirmed, erased}
}

// An account's revoked sessions ended at or after $2, newest first.
// ListEndedSessions and the cursor variant keep the same WHERE, so both are
// range scans of sessions_ended_by_account in index order.
const (
	listEndedWhere = `account_id = $1 AND revoked_at >= $2`
	listEndedSQL   = `SELECT ` + columns.Session + ` FROM sessions WHERE ` + listEndedWhere + `
		ORDER BY revoked_at DESC, id DESC LIMIT $3`
	listEndedAfterSQL = `SELECT ` + columns.Session + ` FROM sessions WHERE ` + listEndedWhere + `
		AND (revoked_at, id) < ($3, $4)
		ORDER BY revoked_at DESC, id DESC LIMIT $5`
)

// issueClosuresSQL stores the first closure token of each ended session,
// all in one statement: $1 the hashes, $2 the sessions, $3 when.
const issueClosuresSQL = `INSERT INTO closure_tokens (hash, session_id, issued_at)
	SELECT h, sid, $3 FROM unnest($1::bytea[], $2::text[]) AS t (h, sid)`

// issueClosuresTx stores the first closure token of each session in ended
// (fx.Closure, unless fx.Closed), issued at at, in tx: after the sessions'
// rows, which the revocation holds, like every closure write.
func issueClosuresTx(ctx context.Context, tx pgx.Tx, ended []store.Session, fx store.RevokeEffects, at time.Time) error {
	if fx.Closure == nil || fx.Closed || len(ended) == 0 {
		return nil
	}
	hashes, ids := make([][]byte, len(ended)), make([]string, len(ended))
	for i, e := range ended {
		hashes[i], ids[i] = nonNil(fx.Closure(e.ID)), e.ID
	}
	_, err := tx.Exec(ctx, issueClosuresSQL, hashes, ids, at)
	return err
}

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
		// The account's inactivity rule goes into the session; FOR SHARE
		// waits for a settings change in flight (SetSettings). An unknown
		// account reads as 0 here and fails the foreign key below.
		var acctRule int32
		if err := tx.QueryRow(ctx, `SELECT auto_logout_inactive_after_s FROM accounts WHERE id = $1 FOR SHARE`,
			ses.AccountID).Scan(&acctRule); err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO sessions (`+columns.Session+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28, $29, $30, $31, $32, $33)`,
			sessionArgs(ses, acctRule)...); err != nil {
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
	return s.SearchSessions(ctx, accountID, excludeID, now, "", after, limit)
}

// SearchSessions is ListSessions restricted to the sessions that match q
// (store.Store.SearchSessions): the same range scan of
// sessions_live_by_account in list order, each session filtered by
// lower(column) LIKE lower(pattern). An empty q lists them all.
func (s *Store) SearchSessions(ctx context.Context, accountID, excludeID string, now time.Time, q string, after *store.SessionCursor, limit int) ([]store.Session, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []store.Session
	err := s.run(ctx, "list sessions", func(ctx context.Context) error {
		var (
			rows pgx.Rows
			err  error
		)
		switch {
		case q == "" && after == nil:
			rows, err = s.pool.Query(ctx, listSessionsSQL, accountID, now, excludeID, limit)
		case q == "":
			rows, err = s.pool.Query(ctx, listSessionsAfterSQL, accountID, now, excludeID, after.LastSeenAt, after.ID, limit)
		case after == nil:
			rows, err = s.pool.Query(ctx, searchSessionsSQL, accountID, now, excludeID, limit, likePattern(q))
		default:
			rows, err = s.pool.Query(ctx, searchSessionsAfterSQL, accountID, now, excludeID, after.LastSeenAt, after.ID, limit, likePattern(q))
		}
		if err != nil {
			return err
		}
		out, err = collectSessions(rows, min(limit, 64))
		return err
	})
	return out, err
}

// CountSessions counts the account's live sessions that match q but
// currentID, those of them last seen at or after activeSince, and whether
// currentID matches (store.Store.CountSessions), in one scan of
// sessions_live_by_account.
func (s *Store) CountSessions(ctx context.Context, accountID, currentID string, now, activeSince time.Time, q string) (store.SessionCount, error) {
	var c store.SessionCount
	err := s.run(ctx, "count sessions", func(ctx context.Context) error {
		var row pgx.Row
		if q == "" {
			row = s.pool.QueryRow(ctx, countSessionsSQL, accountID, now, currentID, activeSince)
		} else {
			row = s.pool.QueryRow(ctx, countMatchingSQL, accountID, now, currentID, activeSince, likePattern(q))
		}
		var current int
		if err := row.Scan(&c.Total, &c.Active, &current); err != nil {
			return err
		}
		c.Current = current > 0
		return nil
	})
	if err != nil {
		return store.SessionCount{}, err
	}
	return c, nil
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
		rows, err := tx.Query(ctx, `UPDATE sessions SET `+revokeSet+`
			WHERE id = $8 AND account_id = $9 AND revoked_at IS NULL
			RETURNING `+columns.Session, append(revokeArgs(r, fx.Closed), id, accountID)...)
		if err != nil {
			return err
		}
		if got, err = collectSessions(rows, 1); err != nil || len(got) == 0 {
			return err // nothing changed: the empty transaction commits nothing
		}
		if err := issueClosuresTx(ctx, tx, got, fx, r.At); err != nil {
			return err
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
		rows, err := tx.Query(ctx, revokeOthersSQL, append(revokeArgs(r, fx.Closed), accountID, keepID)...)
		if err != nil {
			return err
		}
		if out, err = collectSessions(rows, 8); err != nil {
			return err
		}
		sortLikeList(out)
		if err := issueClosuresTx(ctx, tx, out, fx, r.At); err != nil {
			return err
		}
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

// UpdateSession changes a session of the account that is not revoked and
// appends the events events makes from the session as it was, in one
// transaction. It first reads the session FOR NO KEY UPDATE, the lock its
// UPDATE takes anyway: a concurrent update or revocation of the session
// waits for it (or it for them) and then reads the row as that one left
// it, so an update never starts from a value another replaced, and never
// changes a session revoked meanwhile. It locks one session row and
// nothing else, so it takes part in no lock cycle. store.ErrNotFound if
// the account has no such session, store.ErrRevoked if it is revoked;
// either way it writes nothing.
func (s *Store) UpdateSession(ctx context.Context, accountID, id string, u store.SessionUpdate, events store.SessionEventsFunc) (store.Session, error) {
	var after store.Session
	err := s.tx(ctx, "update session", func(ctx context.Context, tx pgx.Tx) error {
		before, err := scanSession(tx.QueryRow(ctx, `SELECT `+columns.Session+` FROM sessions
			WHERE id = $1 AND account_id = $2 FOR NO KEY UPDATE`, id, accountID))
		if err != nil {
			return notFound(err)
		}
		if before.Revoked != nil {
			return store.ErrRevoked
		}
		name, rule := before.Device.Name, before.IdleTimeout
		if u.Name != nil {
			name = *u.Name
		}
		if u.IdleTimeout != nil {
			rule = *u.IdleTimeout
		}
		if after, err = scanSession(tx.QueryRow(ctx, `UPDATE sessions SET device_name = $2, idle_timeout_s = $3 WHERE id = $1
			RETURNING `+columns.Session, id, name, secs(rule))); err != nil {
			return err
		}
		if events != nil {
			return appendAuditTx(ctx, tx, accountID, events(before)...)
		}
		return nil
	})
	if err != nil {
		return store.Session{}, err
	}
	return after, nil
}

// RenameSession is UpdateSession of the name alone, with one event.
func (s *Store) RenameSession(ctx context.Context, accountID, id, name string, audit store.SessionAuditFunc) (store.Session, error) {
	var events store.SessionEventsFunc
	if audit != nil {
		events = func(before store.Session) []api.AuditEvent { return []api.AuditEvent{audit(before)} }
	}
	return s.UpdateSession(ctx, accountID, id, store.SessionUpdate{Name: &name}, events)
}

// endIdleSQL ends the live sessions due at $1 (idle_deadline at or before
// it), at most $8, with the revocation $1 to $7, those of one account
// ($9) or one session ($9, of account $10 unless it is empty) when where
// says so. SKIP LOCKED: a session another transaction holds (a touch, a
// revocation, another replica's sweep) is left for the next sweep, so a
// sweep never waits for a session, and replicas sweeping at once split the
// due sessions between them instead of ending any twice. Each locked row
// is re-checked against the WHERE as it now is, so a session used or
// ended meanwhile is not taken.
func endIdleSQL(where string) string {
	return `WITH due AS (
		SELECT id FROM sessions
		WHERE revoked_at IS NULL AND idle_deadline IS NOT NULL AND idle_deadline <= $1` + where + `
		ORDER BY idle_deadline
		LIMIT $8
		FOR UPDATE SKIP LOCKED
	)
	UPDATE sessions AS s
	SET ` + revokeSet + `
	FROM due
	WHERE s.id = due.id
	RETURNING ` + qualified("s", columns.Session)
}

var (
	endIdleAllSQL     = endIdleSQL("")
	endIdleAccountSQL = endIdleSQL(" AND account_id = $9")
	endIdleSessionSQL = endIdleSQL(" AND id = $9 AND ($10 = '' OR account_id = $10)")
)

// forgetDevicesSQL deletes the remembered logins of the (account, device)
// pairs $1, $2, locked first in hash order like every deletion of several
// (see the package doc), and counts them per pair.
const forgetDevicesSQL = `WITH target AS (
		SELECT r.hash FROM remembered_logins AS r
		JOIN unnest($1::text[], $2::text[]) AS p (account_id, device_id)
			ON r.account_id = p.account_id AND r.device_id = p.device_id
		ORDER BY r.hash
		FOR UPDATE OF r
	), gone AS (
		DELETE FROM remembered_logins AS r USING target WHERE r.hash = target.hash
		RETURNING r.account_id, r.device_id
	)
	SELECT account_id, device_id, count(*) FROM gone GROUP BY account_id, device_id`

// EndIdleSessions ends up to sw.Limit live sessions past their idle
// deadline at sw.Revocation.At, with their effects, in one transaction of
// four statements whatever the number of sessions: the revocation
// (endIdleSQL), their closure tokens, their devices' remembered logins
// (locked in hash order, so sweeps and revocations never wait for each
// other in a cycle) and one audit event per session.
func (s *Store) EndIdleSessions(ctx context.Context, sw store.IdleSweep) ([]store.Session, error) {
	if sw.Limit <= 0 {
		return nil, nil
	}
	var ended []store.Session
	err := s.tx(ctx, "end idle sessions", func(ctx context.Context, tx pgx.Tx) error {
		ended = nil
		args := append(revokeArgs(sw.Revocation, false), sw.Limit)
		query := endIdleAllSQL
		switch {
		case sw.SessionID != "":
			query, args = endIdleSessionSQL, append(args, sw.SessionID, sw.AccountID)
		case sw.AccountID != "":
			query, args = endIdleAccountSQL, append(args, sw.AccountID)
		}
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		if ended, err = collectSessions(rows, min(sw.Limit, 64)); err != nil || len(ended) == 0 {
			return err
		}
		slices.SortFunc(ended, func(a, b store.Session) int {
			return cmp.Or(strings.Compare(a.AccountID, b.AccountID), strings.Compare(a.ID, b.ID))
		})
		if err := issueClosuresTx(ctx, tx, ended, store.RevokeEffects{Closure: sw.Closure}, sw.Revocation.At); err != nil {
			return err
		}
		type device struct{ account, id string }
		forgotten := map[device]int{}
		if sw.Forget {
			accts, devs := make([]string, len(ended)), make([]string, len(ended))
			for i, e := range ended {
				accts[i], devs[i] = e.AccountID, e.Device.ID
			}
			rows, err := tx.Query(ctx, forgetDevicesSQL, accts, devs)
			if err != nil {
				return err
			}
			var d device
			var n int
			if _, err := pgx.ForEachRow(rows, []any{&d.account, &d.id, &n}, func() error {
				forgotten[d] = n
				return nil
			}); err != nil {
				return err
			}
		}
		if sw.Audit == nil {
			return nil
		}
		accts, events := make([]string, len(ended)), make([]api.AuditEvent, len(ended))
		for i, e := range ended {
			// A device's saved logins count with its first session ended
			// here, as when each session's are deleted in turn.
			d := device{e.AccountID, e.Device.ID}
			accts[i], events[i] = e.AccountID, sw.Audit(e, forgotten[d])
			forgotten[d] = 0
		}
		return appendAuditsTx(ctx, tx, accts, events)
	})
	if err != nil {
		return nil, err
	}
	return ended, nil
}

// recordUseSQL moves the last use of the live sessions $1 forward to $2
// (their expiry to $3, never back), locking them in id order first like
// every write of several sessions.
const recordUseSQL = `WITH target AS (
		SELECT s.id, u.at, u.expires
		FROM sessions AS s
		JOIN unnest($1::text[], $2::timestamptz[], $3::timestamptz[]) AS u (id, at, expires) ON u.id = s.id
		WHERE s.revoked_at IS NULL AND s.last_seen_at < u.at
		ORDER BY s.id
		FOR NO KEY UPDATE OF s
	)
	UPDATE sessions AS s SET last_seen_at = target.at, expires_at = GREATEST(s.expires_at, target.expires)
	FROM target
	WHERE s.id = target.id AND s.last_seen_at < target.at`

// recordUseBatch is how many sessions one RecordUse statement updates.
const recordUseBatch = 500

// RecordUse moves each live session's last use forward to its Use.At (and
// its expiry with it), recordUseBatch sessions per statement, each its own
// transaction.
func (s *Store) RecordUse(ctx context.Context, uses []store.Use) error {
	for len(uses) > 0 {
		n := min(len(uses), recordUseBatch)
		ids, at, exp := make([]string, n), make([]time.Time, n), make([]time.Time, n)
		for i, u := range uses[:n] {
			ids[i], at[i], exp[i] = u.SessionID, u.At, u.ExpiresAt
		}
		if err := s.run(ctx, "record use", func(ctx context.Context) error {
			_, err := s.pool.Exec(ctx, recordUseSQL, ids, at, exp)
			return err
		}); err != nil {
			return err
		}
		uses = uses[n:]
	}
	return nil
}

// ListEndedSessions returns up to limit revoked sessions of the account
// revoked at or after since, the most recently ended first (RevokedAt then
// ID, both descending), starting after the cursor if any.
func (s *Store) ListEndedSessions(ctx context.Context, accountID string, since time.Time, after *store.EndedCursor, limit int) ([]store.Session, error) {
	if limit <= 0 {
		return nil, nil
	}
	var out []store.Session
	err := s.run(ctx, "list ended sessions", func(ctx context.Context) error {
		var (
			rows pgx.Rows
			err  error
		)
		if after == nil {
			rows, err = s.pool.Query(ctx, listEndedSQL, accountID, since, limit)
		} else {
			rows, err = s.pool.Query(ctx, listEndedAfterSQL, accountID, since, after.RevokedAt, after.ID, limit)
		}
		if err != nil {
			return err
		}
		out, err = collectSessions(rows, min(limit, 64))
		return err
	})
	return out, err
}

// IssueClosureToken stores h as a closure token of the revoked session id
// and drops its oldest tokens beyond store.MaxClosureTokens, in one
// transaction. It locks the session row first (FOR NO KEY UPDATE, the
// lock a receipt's UPDATE takes), then the tokens, like every closure
// write: a receipt for the session runs wholly before or after it.
// store.ErrNotFound for an unknown session, store.ErrConflict for a live
// one or a confirmed closure.
func (s *Store) IssueClosureToken(ctx context.Context, id string, h []byte, at time.Time) error {
	return s.tx(ctx, "issue closure token", func(ctx context.Context, tx pgx.Tx) error {
		var revoked, confirmed bool
		if err := tx.QueryRow(ctx, `SELECT revoked_at IS NOT NULL, closure_confirmed_at IS NOT NULL
			FROM sessions WHERE id = $1 FOR NO KEY UPDATE`, id).Scan(&revoked, &confirmed); err != nil {
			return notFound(err)
		}
		if !revoked || confirmed {
			return store.ErrConflict
		}
		if _, err := tx.Exec(ctx, `INSERT INTO closure_tokens (hash, session_id, issued_at) VALUES ($1, $2, $3)`,
			nonNil(h), id, at); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM closure_tokens WHERE session_id = $1 AND seq NOT IN (
			SELECT seq FROM closure_tokens WHERE session_id = $1 ORDER BY seq DESC LIMIT $2)`, id, store.MaxClosureTokens)
		return err
	})
}

// ConfirmClosure records the receipt of the session with a closure token
// hashing to h, deletes all its closure tokens and appends audit's event,
// in one transaction. Its conditional UPDATE locks the session row first
// (a confirmed closure no longer matches it, so of concurrent receipts
// exactly one updates), then it deletes the session's tokens and checks
// that h was among them: a token dropped meanwhile confirms nothing.
// store.ErrNotFound when no token hashes to h.
func (s *Store) ConfirmClosure(ctx context.Context, h []byte, at time.Time, erased bool, audit store.SessionAuditFunc) (store.Session, error) {
	var after store.Session
	err := s.tx(ctx, "confirm closure", func(ctx context.Context, tx pgx.Tx) error {
		var id string
		if err := tx.QueryRow(ctx, `SELECT session_id FROM closure_tokens WHERE hash = $1`, nonNil(h)).Scan(&id); err != nil {
			return notFound(err)
		}
		var err error
		after, err = scanSession(tx.QueryRow(ctx, `UPDATE sessions SET closure_confirmed_at = $2, closure_erased = $3
			WHERE id = $1 AND revoked_at IS NOT NULL AND closure_confirmed_at IS NULL
			RETURNING `+columns.Session, id, at, erased))
		if err != nil {
			return notFound(err)
		}
		rows, err := tx.Query(ctx, `DELETE FROM closure_tokens WHERE session_id = $1 RETURNING hash`, id)
		if err != nil {
			return err
		}
		spent, err := pgx.CollectRows(rows, pgx.RowTo[[]byte])
		if err != nil {
			return err
		}
		if !slices.ContainsFunc(spent, func(b []byte) bool { return bytes.Equal(b, h) }) {
			return store.ErrNotFound
		}
		if audit != nil {
			before := after
			before.Receipt = nil
			return appendAuditTx(ctx, tx, before.AccountID, audit(before))
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
