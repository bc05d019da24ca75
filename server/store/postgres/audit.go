package postgres

import (
	"context"
	"math"
	"time"

	"github.com/jackc/pgx/v5"

	"sessionguard/api"
	"sessionguard/server/store"
	"sessionguard/server/store/internal/columns"
)

// AppendAudit adds an event to the account's log and returns its Seq, the
// next value of the table's identity sequence.
func (s *Store) AppendAudit(ctx context.Context, accountID string, e api.AuditEvent) (int64, error) {
	var seq int64
	err := s.run(ctx, "append audit", func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, appendAuditSQL+` RETURNING seq`, auditArgs(accountID, e)...).Scan(&seq)
	})
	if err != nil {
		return 0, err
	}
	return seq, nil
}

const appendAuditSQL = `INSERT INTO audit_events (account_id, id, at, type, ip,
		loc_city, loc_region, loc_country, loc_country_code,
		session_id, device_name, target_session_id, target_device_name, detail)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`

// auditArgs are the arguments of appendAuditSQL for e.
func auditArgs(accountID string, e api.AuditEvent) []any {
	l := e.Location
	return []any{accountID, e.ID, e.At, e.Type, e.IP, l.City, l.Region, l.Country, l.CountryCode,
		e.SessionID, e.DeviceName, e.TargetSessionID, e.TargetDeviceName, e.Detail}
}

// appendAuditTx appends events to the account's log inside tx. The
// audit log has no foreign key, so this takes no lock on other rows.
func appendAuditTx(ctx context.Context, tx pgx.Tx, accountID string, events ...api.AuditEvent) error {
	for _, e := range events {
		if _, err := tx.Exec(ctx, appendAuditSQL, auditArgs(accountID, e)...); err != nil {
			return err
		}
	}
	return nil
}

// appendAuditsSQL appends one event per element of its 14 arrays (the
// columns of appendAuditSQL), in array order: one statement for many
// events of many accounts.
const appendAuditsSQL = `INSERT INTO audit_events (account_id, id, at, type, ip,
		loc_city, loc_region, loc_country, loc_country_code,
		session_id, device_name, target_session_id, target_device_name, detail)
	SELECT a, i, t, ty, ip, c, r, co, cc, s, d, ts, td, de
	FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
		$9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[])
		WITH ORDINALITY AS e (a, i, t, ty, ip, c, r, co, cc, s, d, ts, td, de, n)
	ORDER BY n`

// appendAuditsTx appends events[i] to the log of accounts[i], in order,
// inside tx, in one statement.
func appendAuditsTx(ctx context.Context, tx pgx.Tx, accounts []string, events []api.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	cols := make([][]string, 13)
	at := make([]time.Time, len(events))
	for k := range cols {
		cols[k] = make([]string, len(events))
	}
	for i, e := range events {
		l := e.Location
		at[i] = e.At
		for k, v := range []string{accounts[i], e.ID, e.Type, e.IP, l.City, l.Region, l.Country, l.CountryCode,
			e.SessionID, e.DeviceName, e.TargetSessionID, e.TargetDeviceName, e.Detail} {
			cols[k][i] = v
		}
	}
	_, err := tx.Exec(ctx, appendAuditsSQL, cols[0], cols[1], at, cols[2], cols[3], cols[4], cols[5], cols[6], cols[7],
		cols[8], cols[9], cols[10], cols[11], cols[12])
	return err
}

const listAuditSQL = `SELECT ` + columns.Audit + ` FROM audit_events
	WHERE account_id = $1 AND seq < $2 ORDER BY seq DESC LIMIT $3`

// ListAudit returns up to limit events of the account, newest first, with
// Seq below beforeSeq (0 or less: from the newest): a backward range scan
// of audit_events_account. A limit of 0 or less returns nothing.
func (s *Store) ListAudit(ctx context.Context, accountID string, beforeSeq int64, limit int) ([]store.AuditRecord, error) {
	if limit <= 0 {
		return nil, nil
	}
	if beforeSeq <= 0 {
		beforeSeq = math.MaxInt64
	}
	var out []store.AuditRecord
	err := s.run(ctx, "list audit", func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, listAuditSQL, accountID, beforeSeq, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		out = make([]store.AuditRecord, 0, min(limit, 64))
		for rows.Next() {
			var (
				r store.AuditRecord
				e = &r.Event
				l = &e.Location
			)
			if err := rows.Scan(&r.Seq, &r.AccountID, &e.ID, &e.At, &e.Type, &e.IP,
				&l.City, &l.Region, &l.Country, &l.CountryCode,
				&e.SessionID, &e.DeviceName, &e.TargetSessionID, &e.TargetDeviceName, &e.Detail); err != nil {
				return err
			}
			out = append(out, r)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
