package postgres

import (
	"context"
	"math"

	"sessionguard/api"
	"sessionguard/server/store"
)

// AppendAudit adds an event to the account's log and returns its Seq, the
// next value of the table's identity sequence.
func (s *Store) AppendAudit(ctx context.Context, accountID string, e api.AuditEvent) (int64, error) {
	var seq int64
	l := e.Location
	err := s.run(ctx, "append audit", func(ctx context.Context) error {
		return s.pool.QueryRow(ctx, `INSERT INTO audit_events (account_id, id, at, type, ip,
				loc_city, loc_region, loc_country, loc_country_code,
				session_id, device_name, target_session_id, target_device_name, detail)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
			RETURNING seq`,
			accountID, e.ID, e.At, e.Type, e.IP, l.City, l.Region, l.Country, l.CountryCode,
			e.SessionID, e.DeviceName, e.TargetSessionID, e.TargetDeviceName, e.Detail).Scan(&seq)
	})
	if err != nil {
		return 0, err
	}
	return seq, nil
}

const listAuditSQL = `SELECT ` + auditCols + ` FROM audit_events
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
