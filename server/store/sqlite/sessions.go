package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"sync"
	"time"

	"sessionguard/api"
	"sessionguard/server/store"
)

// CreateSession inserts s with its first refresh token, which is stored as
// belonging to s whatever rt.SessionID says, records s.InstallHash (if
// any) as a known install of the account and appends the audit events to
// the account's log, in one IMMEDIATE transaction. ReauthFailures starts
// at 0 whatever s says.
func (s *Store) CreateSession(ctx context.Context, ses store.Session, rt store.RefreshToken, audit ...api.AuditEvent) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap("create session", err)
	}
	defer tx.Rollback()
	var (
		revokedAt, closureAt            sql.NullInt64
		reason, bySession, byDeviceName string
		erase, erased                   bool
	)
	if r := ses.Revoked; r != nil {
		revokedAt = nullMicros(&r.At)
		reason, bySession, byDeviceName, erase = r.Reason, r.BySessionID, r.ByDeviceName, r.Erase
		if rc := ses.Receipt; rc != nil {
			closureAt, erased = nullMicros(&rc.At), rc.Erased
		}
	}
	// The account's inactivity rule goes into the session (see
	// store.Session.AccountIdleTimeout); with one writer, no settings
	// change comes between this read and the commit. An unknown account
	// reads as 0 here and fails the foreign key below.
	var acctRule int64
	if err := tx.StmtContext(ctx, s.st.txAccountRule).QueryRowContext(ctx, ses.AccountID).Scan(&acctRule); err != nil &&
		!errors.Is(err, sql.ErrNoRows) {
		return s.wrap("create session", err)
	}
	d, l := ses.Device, ses.Location
	if _, err := tx.StmtContext(ctx, s.st.insertSession).ExecContext(ctx,
		ses.ID, ses.AccountID,
		d.ID, d.Name, d.Platform, d.OS, d.Model, d.AppVersion,
		ses.IP, l.City, l.Region, l.Country, l.CountryCode,
		micros(ses.CreatedAt), micros(ses.LastSeenAt), micros(ses.AuthTime), micros(ses.ExpiresAt), micros(ses.AbsoluteExpiresAt),
		boolInt(ses.Remember), nonNil(ses.AccessHash), micros(ses.AccessExpiresAt), nullBytes(ses.InstallHash), 0,
		revokedAt, reason, bySession, byDeviceName, boolInt(erase), closureAt, boolInt(erased),
		secs(ses.IdleTimeout), acctRule, ses.JKT); err != nil {
		return s.wrap("create session", err)
	}
	if len(ses.InstallHash) > 0 {
		if _, err := tx.StmtContext(ctx, s.st.upsertInstall).ExecContext(ctx,
			ses.AccountID, ses.InstallHash, micros(ses.CreatedAt)); err != nil {
			return s.wrap("create session", err)
		}
	}
	if _, err := tx.StmtContext(ctx, s.st.insertRefresh).ExecContext(ctx,
		nonNil(rt.Hash), ses.ID, micros(rt.IssuedAt), micros(rt.ExpiresAt), nullMicros(rt.RotatedAt)); err != nil {
		return s.wrap("create session", err)
	}
	if err := s.appendAuditTx(ctx, tx, "create session", ses.AccountID, audit...); err != nil {
		return err
	}
	return s.wrap("create session", tx.Commit())
}

// Session finds a session by ID (revoked ones too).
func (s *Store) Session(ctx context.Context, id string) (store.Session, error) {
	ses, err := scanSession(s.st.sessionByID.QueryRowContext(ctx, id))
	if err != nil {
		return store.Session{}, s.notFound("session", err)
	}
	return ses, nil
}

// SessionByAccessHash finds the session whose current access token hashes
// to h, revoked ones too, so that a caller can say why a token stopped
// working.
func (s *Store) SessionByAccessHash(ctx context.Context, h []byte) (store.Session, error) {
	ses, err := scanSession(s.st.sessionByAccessHash.QueryRowContext(ctx, h))
	if err != nil {
		return store.Session{}, s.notFound("session by access hash", err)
	}
	return ses, nil
}

// TouchSession records use of a live session: store.ErrRevoked if it is
// revoked, store.ErrNotFound if there is no such session.
func (s *Store) TouchSession(ctx context.Context, id string, t store.Touch) error {
	l := t.Location
	res, err := s.st.touchSession.ExecContext(ctx, micros(t.LastSeenAt), micros(t.ExpiresAt), t.IP,
		l.City, l.Region, l.Country, l.CountryCode, id)
	if err != nil {
		return s.wrap("touch session", err)
	}
	return s.changedOne(ctx, "touch session", res, id)
}

// SetAuthTime records a fresh password proof on a live session and resets
// its re-auth failures: store.ErrRevoked if it is revoked,
// store.ErrNotFound if there is no such session.
func (s *Store) SetAuthTime(ctx context.Context, id string, at time.Time) error {
	res, err := s.st.setAuthTime.ExecContext(ctx, micros(at), id)
	if err != nil {
		return s.wrap("set auth time", err)
	}
	return s.changedOne(ctx, "set auth time", res, id)
}

// FailReauth adds one to a live session's re-auth failures in one UPDATE …
// RETURNING and returns the new count: store.ErrRevoked if the session is
// revoked, store.ErrNotFound if there is no such session.
func (s *Store) FailReauth(ctx context.Context, id string) (int, error) {
	const op = "fail re-auth"
	var n int
	err := s.st.failReauth.QueryRowContext(ctx, id).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, s.whyUnchanged(ctx, op, s.st.sessionRevoked.QueryRowContext(ctx, id))
	}
	if err != nil {
		return 0, s.wrap(op, err)
	}
	return n, nil
}

// KnownInstall reports whether the account has a known install with hash
// h (recorded by CreateSession, not purged). An empty h is never known.
func (s *Store) KnownInstall(ctx context.Context, accountID string, h []byte) (bool, error) {
	if len(h) == 0 {
		return false, nil
	}
	var n int
	if err := s.st.knownInstall.QueryRowContext(ctx, accountID, h).Scan(&n); err != nil {
		return false, s.wrap("known install", err)
	}
	return n > 0, nil
}

// changedOne explains an UPDATE … WHERE id = ? AND revoked_at IS NULL that
// changed nothing. A revocation is final, so the answer cannot go stale.
func (s *Store) changedOne(ctx context.Context, op string, res sql.Result, id string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return s.wrap(op, err)
	}
	if n > 0 {
		return nil
	}
	return s.whyUnchanged(ctx, op, s.st.sessionRevoked.QueryRowContext(ctx, id))
}

func (s *Store) whyUnchanged(ctx context.Context, op string, row *sql.Row) error {
	var revoked bool
	if err := row.Scan(&revoked); err != nil {
		return s.notFound(op, err)
	}
	if revoked {
		return store.ErrRevoked
	}
	// Live and present, yet unchanged: cannot happen with one writer.
	return s.wrap(op, errors.New("session changed concurrently"))
}

// ListSessions returns up to limit live sessions of the account (not
// revoked, ExpiresAt after now), excluding excludeID, ordered by LastSeenAt
// then ID, both descending, starting after the cursor if any. A limit of 0
// or less returns nothing.
func (s *Store) ListSessions(ctx context.Context, accountID, excludeID string, now time.Time, after *store.SessionCursor, limit int) ([]store.Session, error) {
	return s.SearchSessions(ctx, accountID, excludeID, now, "", after, limit)
}

// SearchSessions is ListSessions restricted to the sessions that match q
// (store.Store.SearchSessions): the same walk of sessions_live_by_account
// in list order, each session filtered with LIKE, which folds the case of
// ASCII letters only. An empty q lists them all.
func (s *Store) SearchSessions(ctx context.Context, accountID, excludeID string, now time.Time, q string, after *store.SessionCursor, limit int) ([]store.Session, error) {
	if limit <= 0 {
		return nil, nil
	}
	var (
		rows *sql.Rows
		err  error
	)
	switch {
	case q == "" && after == nil:
		rows, err = s.st.listSessions.QueryContext(ctx, accountID, micros(now), excludeID, limit)
	case q == "":
		rows, err = s.st.listSessionsAfter.QueryContext(ctx, accountID, micros(now), excludeID,
			micros(after.LastSeenAt), after.ID, limit)
	case after == nil:
		rows, err = s.st.searchSessions.QueryContext(ctx, accountID, micros(now), excludeID, limit, likePattern(q))
	default:
		rows, err = s.st.searchSessionsAfter.QueryContext(ctx, accountID, micros(now), excludeID,
			micros(after.LastSeenAt), after.ID, limit, likePattern(q))
	}
	if err != nil {
		return nil, s.wrap("list sessions", err)
	}
	out, err := collectSessions(rows, min(limit, 64))
	if err != nil {
		return nil, s.wrap("list sessions", err)
	}
	return out, nil
}

// CountSessions counts the account's live sessions that match q but
// currentID, those of them last seen at or after activeSince, and whether
// currentID matches (store.Store.CountSessions), in one read of
// sessions_live_by_account.
func (s *Store) CountSessions(ctx context.Context, accountID, currentID string, now, activeSince time.Time, q string) (store.SessionCount, error) {
	var (
		c       store.SessionCount
		current int
		row     *sql.Row
	)
	if q == "" {
		row = s.st.countSessions.QueryRowContext(ctx, accountID, micros(now), currentID, micros(activeSince))
	} else {
		row = s.st.countMatching.QueryRowContext(ctx, accountID, micros(now), currentID, micros(activeSince), likePattern(q))
	}
	if err := row.Scan(&c.Total, &c.Active, &current); err != nil {
		return store.SessionCount{}, s.wrap("count sessions", err)
	}
	c.Current = current > 0
	return c, nil
}

// RevokeSession ends one live session of the account and makes the writes
// fx asks for, in one IMMEDIATE transaction. It returns the revoked
// session, store.ErrNotFound if the account has no such session, or
// store.ErrRevoked with the session as it is if it was already revoked;
// either way it writes nothing. Its UPDATE is conditional on the session
// being live, so of concurrent callers exactly one wins.
func (s *Store) RevokeSession(ctx context.Context, accountID, id string, r store.Revocation, fx store.RevokeEffects) (store.Session, error) {
	const op = "revoke session"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return store.Session{}, s.wrap(op, err)
	}
	defer tx.Rollback()
	rows, err := tx.StmtContext(ctx, s.st.revokeSession).QueryContext(ctx, append(revokeArgs(r, fx.Closed), id, accountID)...)
	if err != nil {
		return store.Session{}, s.wrap(op, err)
	}
	got, err := collectSessions(rows, 1)
	if err != nil {
		return store.Session{}, s.wrap(op, err)
	}
	if len(got) == 1 {
		if err := s.issueClosuresTx(ctx, tx, op, got, fx, r.At); err != nil {
			return store.Session{}, err
		}
		forgotten := 0
		if fx.Forget {
			if forgotten, err = s.affectedTx(ctx, tx, op, s.st.deleteRemDevice, accountID, got[0].Device.ID); err != nil {
				return store.Session{}, err
			}
		}
		if fx.Audit != nil {
			if err := s.appendAuditTx(ctx, tx, op, accountID, fx.Audit(got, forgotten)); err != nil {
				return store.Session{}, err
			}
		}
		if err := tx.Commit(); err != nil {
			return store.Session{}, s.wrap(op, err)
		}
		return got[0], nil
	}
	// Nothing changed: no such session of this account, or already revoked
	// (committed before our UPDATE ran, so visible to every reader now).
	if err := tx.Rollback(); err != nil {
		return store.Session{}, s.wrap(op, err)
	}
	ses, err := scanSession(s.st.sessionOfAccount.QueryRowContext(ctx, id, accountID))
	if err != nil {
		return store.Session{}, s.notFound(op, err)
	}
	if ses.Revoked == nil {
		return store.Session{}, s.wrap(op, errors.New("session changed concurrently"))
	}
	return ses, store.ErrRevoked
}

// RevokeOtherSessions ends every live session of the account but keepID
// and makes the writes fx asks for, in one IMMEDIATE transaction,
// returning the sessions it ended ordered like ListSessions. Transactions
// take the only write connection one at a time, so concurrent callers
// never both count the same session.
func (s *Store) RevokeOtherSessions(ctx context.Context, accountID, keepID string, r store.Revocation, fx store.RevokeEffects) ([]store.Session, error) {
	const op = "revoke other sessions"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	defer tx.Rollback()
	rows, err := tx.StmtContext(ctx, s.st.revokeOthers).QueryContext(ctx, append(revokeArgs(r, fx.Closed), accountID, keepID)...)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	out, err := collectSessions(rows, 8)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	sortLikeList(out)
	if err := s.issueClosuresTx(ctx, tx, op, out, fx, r.At); err != nil {
		return nil, err
	}
	forgotten := 0
	if fx.Forget {
		if fx.KeepDeviceID == "" {
			forgotten, err = s.affectedTx(ctx, tx, op, s.st.deleteRemAll, accountID)
		} else {
			forgotten, err = s.affectedTx(ctx, tx, op, s.st.deleteRemExcept, accountID, fx.KeepDeviceID)
		}
		if err != nil {
			return nil, err
		}
	}
	if fx.Audit != nil {
		if err := s.appendAuditTx(ctx, tx, op, accountID, fx.Audit(out, forgotten)); err != nil {
			return nil, err
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, s.wrap(op, err)
	}
	return out, nil
}

// UpdateSession changes a session of the account that is not revoked and
// appends the events events makes from the session as it was, in one
// IMMEDIATE transaction: it reads the session and writes it on the only
// write connection, so no other write comes between.
// store.ErrNotFound if the account has no such session, store.ErrRevoked
// if it is revoked; either way it writes nothing.
func (s *Store) UpdateSession(ctx context.Context, accountID, id string, u store.SessionUpdate, events store.SessionEventsFunc) (store.Session, error) {
	const op = "update session"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return store.Session{}, s.wrap(op, err)
	}
	defer tx.Rollback()
	before, err := scanSession(tx.StmtContext(ctx, s.st.txSessionOfAcct).QueryRowContext(ctx, id, accountID))
	if err != nil {
		return store.Session{}, s.notFound(op, err)
	}
	if before.Revoked != nil {
		return store.Session{}, store.ErrRevoked
	}
	name, rule := before.Device.Name, before.IdleTimeout
	if u.Name != nil {
		name = *u.Name
	}
	if u.IdleTimeout != nil {
		rule = *u.IdleTimeout
	}
	after, err := scanSession(tx.StmtContext(ctx, s.st.updateSession).QueryRowContext(ctx, name, secs(rule), id))
	if err != nil {
		return store.Session{}, s.wrap(op, err)
	}
	if events != nil {
		if err := s.appendAuditTx(ctx, tx, op, accountID, events(before)...); err != nil {
			return store.Session{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return store.Session{}, s.wrap(op, err)
	}
	return after, nil
}

// RenameSession is UpdateSession of the name alone, with one event.
func (s *Store) RenameSession(ctx context.Context, accountID, id, name string, audit store.SessionAuditFunc) (store.Session, error) {
	return s.UpdateSession(ctx, accountID, id, store.SessionUpdate{Name: &name}, oneEvent(audit))
}

// oneEvent is audit as a store.SessionEventsFunc (nil for nil).
func oneEvent(audit store.SessionAuditFunc) store.SessionEventsFunc {
	if audit == nil {
		return nil
	}
	return func(before store.Session) []api.AuditEvent { return []api.AuditEvent{audit(before)} }
}

// EndIdleSessions ends up to sw.Limit live sessions past their idle
// deadline at sw.Revocation.At, with their effects, in one IMMEDIATE
// transaction: one UPDATE … RETURNING through sessions_idle_due (its
// condition is re-read by the only writer, so a session used, or ended,
// meanwhile is left alone), then the closure tokens, the forgotten saved
// logins and one audit event per ended session.
func (s *Store) EndIdleSessions(ctx context.Context, sw store.IdleSweep) ([]store.Session, error) {
	const op = "end idle sessions"
	if sw.Limit <= 0 {
		return nil, nil
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	defer tx.Rollback()
	args := append(revokeArgs(sw.Revocation, false), sw.Limit)
	var st *sql.Stmt
	switch {
	case sw.SessionID != "":
		st, args = s.st.endIdleSession, append(args, sw.SessionID, sw.AccountID)
	case sw.AccountID != "":
		st, args = s.st.endIdleOfAccount, append(args, sw.AccountID)
	default:
		st = s.st.endIdle
	}
	rows, err := tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	ended, err := collectSessions(rows, min(sw.Limit, 64))
	if err != nil {
		return nil, s.wrap(op, err)
	}
	if len(ended) == 0 {
		return nil, nil
	}
	if err := s.issueClosuresTx(ctx, tx, op, ended, store.RevokeEffects{Closure: sw.Closure}, sw.Revocation.At); err != nil {
		return nil, err
	}
	for _, e := range ended {
		forgotten := 0
		if sw.Forget {
			if forgotten, err = s.affectedTx(ctx, tx, op, s.st.deleteRemDevice, e.AccountID, e.Device.ID); err != nil {
				return nil, err
			}
		}
		if sw.Audit != nil {
			if err := s.appendAuditTx(ctx, tx, op, e.AccountID, sw.Audit(e, forgotten)); err != nil {
				return nil, err
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, s.wrap(op, err)
	}
	return ended, nil
}

// recordUseBatch is how many sessions one RecordUse transaction updates,
// so that it holds the write connection only briefly.
const recordUseBatch = 500

// RecordUse moves each live session's last use forward to its Use.At (and
// its expiry with it), recordUseBatch sessions per IMMEDIATE transaction;
// a session whose LastSeenAt is already as late is left alone.
func (s *Store) RecordUse(ctx context.Context, uses []store.Use) error {
	for len(uses) > 0 {
		n := min(len(uses), recordUseBatch)
		if err := s.recordUse(ctx, uses[:n]); err != nil {
			return err
		}
		uses = uses[n:]
	}
	return nil
}

func (s *Store) recordUse(ctx context.Context, uses []store.Use) error {
	const op = "record use"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(op, err)
	}
	defer tx.Rollback()
	st := tx.StmtContext(ctx, s.st.recordUse)
	for _, u := range uses {
		if _, err := st.ExecContext(ctx, micros(u.At), micros(u.ExpiresAt), u.SessionID); err != nil {
			return s.wrap(op, err)
		}
	}
	return s.wrap(op, tx.Commit())
}

// sortLikeList orders sessions as ListSessions does: by LastSeenAt, then
// ID, both descending.
func sortLikeList(ss []store.Session) {
	slices.SortFunc(ss, func(a, b store.Session) int {
		if c := b.LastSeenAt.Compare(a.LastSeenAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
}

// collectSessions scans and closes rows.
func collectSessions(rows *sql.Rows, capHint int) ([]store.Session, error) {
	defer rows.Close()
	out := make([]store.Session, 0, capHint)
	for rows.Next() {
		ses, err := scanSession(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, ses)
	}
	return out, rows.Err()
}

// sessionRow is a reusable scan target for one sessions row: scanning
// into its fields spares the allocations of fresh locals and of the
// destination list on every call.
type sessionRow struct {
	ses                                                         store.Session
	created, lastSeen, authTime, expires, absExpires, accessExp int64
	remember                                                    int64
	reauthFailures                                              int64
	revokedAt                                                   sql.NullInt64
	reason, bySession, byDeviceName                             string
	erase, closureErased                                        int64
	closureAt                                                   sql.NullInt64
	idleTimeout, accountIdleTimeout                             int64
	dest                                                        []any
}

var sessionRows = sync.Pool{New: func() any {
	r := &sessionRow{}
	s, d, l := &r.ses, &r.ses.Device, &r.ses.Location
	r.dest = []any{&s.ID, &s.AccountID,
		&d.ID, &d.Name, &d.Platform, &d.OS, &d.Model, &d.AppVersion,
		&s.IP, &l.City, &l.Region, &l.Country, &l.CountryCode,
		&r.created, &r.lastSeen, &r.authTime, &r.expires, &r.absExpires,
		&r.remember, &s.AccessHash, &r.accessExp, &s.InstallHash, &r.reauthFailures,
		&r.revokedAt, &r.reason, &r.bySession, &r.byDeviceName,
		&r.erase, &r.closureAt, &r.closureErased,
		&r.idleTimeout, &r.accountIdleTimeout, &s.JKT}
	return r
}}

func scanSession(sc scanner) (store.Session, error) {
	r := sessionRows.Get().(*sessionRow)
	defer func() {
		// Drop references to the strings and hash handed out.
		dest := r.dest
		*r = sessionRow{dest: dest}
		sessionRows.Put(r)
	}()
	if err := sc.Scan(r.dest...); err != nil {
		return store.Session{}, err
	}
	ses := r.ses
	ses.CreatedAt = fromMicros(r.created)
	ses.LastSeenAt = fromMicros(r.lastSeen)
	ses.AuthTime = fromMicros(r.authTime)
	ses.ExpiresAt = fromMicros(r.expires)
	ses.AbsoluteExpiresAt = fromMicros(r.absExpires)
	ses.AccessExpiresAt = fromMicros(r.accessExp)
	ses.Remember = r.remember != 0
	ses.ReauthFailures = int(r.reauthFailures)
	ses.IdleTimeout, ses.AccountIdleTimeout = fromSecs(r.idleTimeout), fromSecs(r.accountIdleTimeout)
	if r.revokedAt.Valid {
		ses.Revoked = &store.Revocation{
			At:           fromMicros(r.revokedAt.Int64),
			Reason:       r.reason,
			BySessionID:  r.bySession,
			ByDeviceName: r.byDeviceName,
			Erase:        r.erase != 0,
		}
		if r.closureAt.Valid {
			ses.Receipt = &store.Receipt{At: fromMicros(r.closureAt.Int64), Erased: r.closureErased != 0}
		}
	}
	return ses, nil
}

// revokeArgs are the values ?1 to ?7 of revokeSet for revocation r; with
// closed (store.RevokeEffects.Closed) the closure is confirmed at r.At.
func revokeArgs(r store.Revocation, closed bool) []any {
	var confirmed sql.NullInt64
	erased := false
	if closed {
		confirmed, erased = nullMicros(&r.At), r.Erase
	}
	return []any{micros(r.At), r.Reason, r.BySessionID, r.ByDeviceName, boolInt(r.Erase), confirmed, boolInt(erased)}
}

// issueClosuresTx stores the first closure token of each session in ended
// (fx.Closure, unless fx.Closed), issued at at, in tx.
func (s *Store) issueClosuresTx(ctx context.Context, tx *sql.Tx, op string, ended []store.Session, fx store.RevokeEffects, at time.Time) error {
	if fx.Closure == nil || fx.Closed || len(ended) == 0 {
		return nil
	}
	st := tx.StmtContext(ctx, s.st.insertClosureToken)
	for _, e := range ended {
		if _, err := st.ExecContext(ctx, nonNil(fx.Closure(e.ID)), e.ID, micros(at)); err != nil {
			return s.wrap(op, err)
		}
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
	var (
		rows *sql.Rows
		err  error
	)
	if after == nil {
		rows, err = s.st.listEnded.QueryContext(ctx, accountID, micros(since), limit)
	} else {
		rows, err = s.st.listEndedAfter.QueryContext(ctx, accountID, micros(since), micros(after.RevokedAt), after.ID, limit)
	}
	if err != nil {
		return nil, s.wrap("list ended sessions", err)
	}
	out, err := collectSessions(rows, min(limit, 64))
	if err != nil {
		return nil, s.wrap("list ended sessions", err)
	}
	return out, nil
}

// IssueClosureToken stores h as a closure token of the revoked session id
// and drops its oldest tokens beyond store.MaxClosureTokens, in one
// IMMEDIATE transaction: store.ErrNotFound for an unknown session,
// store.ErrConflict for a live one or a confirmed closure.
func (s *Store) IssueClosureToken(ctx context.Context, id string, h []byte, at time.Time) error {
	const op = "issue closure token"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return s.wrap(op, err)
	}
	defer tx.Rollback()
	var revoked, confirmed bool
	if err := tx.StmtContext(ctx, s.st.txClosureState).QueryRowContext(ctx, id).Scan(&revoked, &confirmed); err != nil {
		return s.notFound(op, err)
	}
	if !revoked || confirmed {
		return store.ErrConflict
	}
	if _, err := tx.StmtContext(ctx, s.st.insertClosureToken).ExecContext(ctx, nonNil(h), id, micros(at)); err != nil {
		return s.wrap(op, err)
	}
	if _, err := tx.StmtContext(ctx, s.st.trimClosureTokens).ExecContext(ctx, id, store.MaxClosureTokens); err != nil {
		return s.wrap(op, err)
	}
	return s.wrap(op, tx.Commit())
}

// ConfirmClosure records the receipt of the session with a closure token
// hashing to h, deletes all its closure tokens and appends audit's event,
// in one IMMEDIATE transaction: with one writer at a time, of concurrent
// receipts for one session exactly one finds a token left.
// store.ErrNotFound when no token hashes to h.
func (s *Store) ConfirmClosure(ctx context.Context, h []byte, at time.Time, erased bool, audit store.SessionAuditFunc) (store.Session, error) {
	const op = "confirm closure"
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return store.Session{}, s.wrap(op, err)
	}
	defer tx.Rollback()
	before, err := scanSession(tx.StmtContext(ctx, s.st.txSessionByClosure).QueryRowContext(ctx, nonNil(h)))
	if err != nil {
		return store.Session{}, s.notFound(op, err)
	}
	after, err := scanSession(tx.StmtContext(ctx, s.st.confirmClosure).QueryRowContext(ctx, micros(at), boolInt(erased), before.ID))
	if err != nil {
		// A token of a live session or a confirmed closure: cannot be,
		// since issuing refuses those and confirming deletes the tokens.
		return store.Session{}, s.notFound(op, err)
	}
	if _, err := tx.StmtContext(ctx, s.st.deleteClosureTokens).ExecContext(ctx, before.ID); err != nil {
		return store.Session{}, s.wrap(op, err)
	}
	if audit != nil {
		if err := s.appendAuditTx(ctx, tx, op, before.AccountID, audit(before)); err != nil {
			return store.Session{}, err
		}
	}
	if err := tx.Commit(); err != nil {
		return store.Session{}, s.wrap(op, err)
	}
	return after, nil
}

// nonNil keeps a nil hash from binding as NULL in a NOT NULL BLOB column.
func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// nullBytes binds an empty hash of a nullable BLOB column (an install key
// hash) as NULL, so none reads back as nil.
func nullBytes(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	return b
}
