package postgres

import (
	"math"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"sessionguard/server/store"
)

// qualified prefixes every column of cols with table.
func qualified(table, cols string) string {
	fields := strings.Split(cols, ",")
	for i, f := range fields {
		fields[i] = table + "." + strings.TrimSpace(f)
	}
	return strings.Join(fields, ", ")
}

// sessionRow is the scan target of one sessions row.
type sessionRow struct {
	s                               store.Session
	revokedAt, closureAt            *time.Time
	reason, bySession, byDeviceName string
	erase, closureErased            bool
	idleTimeout, accountIdleTimeout int32
}

func (r *sessionRow) dest() []any {
	s, d, l := &r.s, &r.s.Device, &r.s.Location
	return []any{&s.ID, &s.AccountID,
		&d.ID, &d.Name, &d.Platform, &d.OS, &d.Model, &d.AppVersion,
		&s.IP, &l.City, &l.Region, &l.Country, &l.CountryCode,
		&s.CreatedAt, &s.LastSeenAt, &s.AuthTime, &s.ExpiresAt, &s.AbsoluteExpiresAt,
		&s.Remember, &s.AccessHash, &s.AccessExpiresAt, &s.InstallHash, &s.ReauthFailures,
		&r.revokedAt, &r.reason, &r.bySession, &r.byDeviceName,
		&r.erase, &r.closureAt, &r.closureErased,
		&r.idleTimeout, &r.accountIdleTimeout, &s.JKT}
}

func (r *sessionRow) session() store.Session {
	s := r.s
	s.IdleTimeout, s.AccountIdleTimeout = fromSecs(r.idleTimeout), fromSecs(r.accountIdleTimeout)
	if r.revokedAt != nil {
		s.Revoked = &store.Revocation{At: *r.revokedAt, Reason: r.reason, BySessionID: r.bySession, ByDeviceName: r.byDeviceName,
			Erase: r.erase}
		if r.closureAt != nil {
			s.Receipt = &store.Receipt{At: *r.closureAt, Erased: r.closureErased}
		}
	}
	return s
}

// scanSession scans one row of columns.Session.
func scanSession(row pgx.Row) (store.Session, error) {
	var r sessionRow
	if err := row.Scan(r.dest()...); err != nil {
		return store.Session{}, err
	}
	return r.session(), nil
}

// collectSessions scans and closes rows of columns.Session.
func collectSessions(rows pgx.Rows, capHint int) ([]store.Session, error) {
	defer rows.Close()
	out := make([]store.Session, 0, capHint)
	for rows.Next() {
		var r sessionRow
		if err := rows.Scan(r.dest()...); err != nil {
			return nil, err
		}
		out = append(out, r.session())
	}
	return out, rows.Err()
}

// secs and fromSecs convert between a rule's time.Duration and its stored
// integer whole seconds (a fraction of a second is dropped; a rule beyond
// the integer range, which the server never sends, is capped).
func secs(d time.Duration) int32 { return int32(min(d/time.Second, math.MaxInt32)) }

func fromSecs(n int32) time.Duration { return time.Duration(n) * time.Second }

// sessionArgs are the values of columns.Session for s, as CreateSession
// stores it: with no re-auth failures, and acctRule as the account's
// inactivity rule.
func sessionArgs(s store.Session, acctRule int32) []any {
	var (
		revokedAt, closureAt            *time.Time
		reason, bySession, byDeviceName string
		erase, erased                   bool
	)
	if r := s.Revoked; r != nil {
		revokedAt = &r.At
		reason, bySession, byDeviceName, erase = r.Reason, r.BySessionID, r.ByDeviceName, r.Erase
		if rc := s.Receipt; rc != nil {
			closureAt, erased = &rc.At, rc.Erased
		}
	}
	d, l := s.Device, s.Location
	return []any{s.ID, s.AccountID,
		d.ID, d.Name, d.Platform, d.OS, d.Model, d.AppVersion,
		s.IP, l.City, l.Region, l.Country, l.CountryCode,
		s.CreatedAt, s.LastSeenAt, s.AuthTime, s.ExpiresAt, s.AbsoluteExpiresAt,
		s.Remember, nonNil(s.AccessHash), s.AccessExpiresAt, nullBytes(s.InstallHash), 0,
		revokedAt, reason, bySession, byDeviceName, erase, closureAt, erased,
		secs(s.IdleTimeout), acctRule, s.JKT}
}

// sortLikeList orders sessions as ListSessions does: by LastSeenAt, then
// ID, both descending. (IDs are COLLATE "C", so byte-wise, as Go compares
// strings.)
func sortLikeList(ss []store.Session) {
	slices.SortFunc(ss, func(a, b store.Session) int {
		if c := b.LastSeenAt.Compare(a.LastSeenAt); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
}

func scanAccount(row pgx.Row) (store.Account, error) {
	var a store.Account
	var autoOut int32
	err := row.Scan(&a.ID, &a.Username, &a.PasswordHash, &a.CreatedAt, &a.MFAEnabled, &a.TOTPSecret, &a.TOTPPendingSecret,
		&autoOut, &a.Settings.ApproveNewDevices)
	a.Settings.AutoLogoutInactiveAfter = fromSecs(autoOut)
	return a, err
}

func scanRemembered(row pgx.Row) (store.Remembered, error) {
	var r store.Remembered
	err := row.Scan(&r.Hash, &r.AccountID, &r.DeviceID, &r.DeviceName, &r.CreatedAt, &r.ExpiresAt, &r.AuthTime, &r.InstallHash)
	return r, err
}

func scanMFAToken(row pgx.Row) (store.MFAToken, error) {
	var (
		t store.MFAToken
		d = &t.Device
	)
	err := row.Scan(&t.Hash, &t.AccountID, &d.ID, &d.Name, &d.Platform, &d.OS, &d.Model, &d.AppVersion,
		&t.Remember, &t.InstallHash, &t.CreatedAt, &t.ExpiresAt)
	return t, err
}
