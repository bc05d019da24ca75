package sqlite

import (
	"context"
	"database/sql"
	"math"

	"sessionguard/api"
	"sessionguard/server/store"
)

// AppendAudit adds an event to the account's log and returns its Seq.
func (s *Store) AppendAudit(ctx context.Context, accountID string, e api.AuditEvent) (int64, error) {
	res, err := s.st.appendAudit.ExecContext(ctx, auditArgs(accountID, e)...)
	if err != nil {
		return 0, s.wrap("append audit", err)
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return 0, s.wrap("append audit", err)
	}
	return seq, nil
}

// ListAudit returns up to limit events of the account, newest first, with
// Seq below beforeSeq (0 or less: from the newest). A limit of 0 or less
// returns nothing.
func (s *Store) ListAudit(ctx context.Context, accountID string, beforeSeq int64, limit int) ([]store.AuditRecord, error) {
	if limit <= 0 {
		return nil, nil
	}
	if beforeSeq <= 0 {
		beforeSeq = math.MaxInt64
	}
	rows, err := s.st.listAudit.QueryContext(ctx, accountID, beforeSeq, limit)
	if err != nil {
		return nil, s.wrap("list audit", err)
	}
	defer rows.Close()
	out := make([]store.AuditRecord, 0, min(limit, 64))
	for rows.Next() {
		var (
			r  store.AuditRecord
			at int64
			e  = &r.Event
		)
		if err := rows.Scan(&r.Seq, &r.AccountID, &e.ID, &at, &e.Type, &e.IP,
			&e.Location.City, &e.Location.Region, &e.Location.Country, &e.Location.CountryCode,
			&e.SessionID, &e.DeviceName, &e.TargetSessionID, &e.TargetDeviceName, &e.Detail); err != nil {
			return nil, s.wrap("list audit", err)
		}
		e.At = fromMicros(at)
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap("list audit", err)
	}
	return out, nil
}

// appendAuditTx appends events to the account's log inside tx.
func (s *Store) appendAuditTx(ctx context.Context, tx *sql.Tx, op, accountID string, events ...api.AuditEvent) error {
	if len(events) == 0 {
		return nil
	}
	st := tx.StmtContext(ctx, s.st.appendAudit)
	for _, e := range events {
		if _, err := st.ExecContext(ctx, auditArgs(accountID, e)...); err != nil {
			return s.wrap(op, err)
		}
	}
	return nil
}

// auditArgs are the arguments of appendAudit for e.
func auditArgs(accountID string, e api.AuditEvent) []any {
	return []any{accountID, e.ID, micros(e.At), e.Type, e.IP,
		e.Location.City, e.Location.Region, e.Location.Country, e.Location.CountryCode,
		e.SessionID, e.DeviceName, e.TargetSessionID, e.TargetDeviceName, e.Detail}
}
