package sqlite

import (
	"context"
	"database/sql"

	"sessionguard/api"
	"sessionguard/api/auditchain"
)

// goSteps run after the SQL of their migration, in its transaction.
var goSteps = map[int]func(ctx context.Context, tx *sql.Tx) error{
	8: chainExistingAudit,
}

// chainBatch is how many events chainExistingAudit reads at a time.
const chainBatch = 1000

// chainExistingAudit chains the events written before migration 8: each
// account's in the order they were written (the store-wide seq), from 1,
// and records each account's head; then indexes (account_id, account_seq),
// unique. It reads in batches, so its memory does not grow with the log.
func chainExistingAudit(ctx context.Context, tx *sql.Tx) error {
	const sel = `SELECT seq, account_id, id, at, type, ip, loc_city, loc_region, loc_country, loc_country_code,
		session_id, device_name, target_session_id, target_device_name, detail
		FROM audit_events WHERE (account_id, seq) > (?, ?) ORDER BY account_id, seq LIMIT ?`
	upd, err := tx.PrepareContext(ctx, `UPDATE audit_events SET account_seq = ?, prev_hash = ?, hash = ? WHERE seq = ?`)
	if err != nil {
		return err
	}
	defer upd.Close()
	head, err := tx.PrepareContext(ctx, `INSERT INTO audit_heads (account_id, seq, hash, at) VALUES (?1, ?2, ?3, ?4)
		ON CONFLICT (account_id) DO UPDATE SET seq = ?2, hash = ?3, at = ?4`)
	if err != nil {
		return err
	}
	defer head.Close()
	setHead := func(acct string, last *api.AuditEvent) error {
		if last == nil {
			return nil
		}
		_, err := head.ExecContext(ctx, acct, last.Seq, last.Hash, micros(last.At))
		return err
	}
	type row struct {
		rowid int64
		acct  string
		e     api.AuditEvent
	}
	var (
		afterAcct string
		afterSeq  int64 = -1
		prev      *api.AuditEvent
		prevAcct  string
	)
	for {
		rows, err := tx.QueryContext(ctx, sel, afterAcct, afterSeq, chainBatch)
		if err != nil {
			return err
		}
		batch := make([]row, 0, chainBatch)
		for rows.Next() {
			var (
				r  row
				at int64
				e  = &r.e
			)
			if err := rows.Scan(&r.rowid, &r.acct, &e.ID, &at, &e.Type, &e.IP,
				&e.Location.City, &e.Location.Region, &e.Location.Country, &e.Location.CountryCode,
				&e.SessionID, &e.DeviceName, &e.TargetSessionID, &e.TargetDeviceName, &e.Detail); err != nil {
				rows.Close()
				return err
			}
			e.At = fromMicros(at)
			batch = append(batch, r)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, r := range batch {
			if r.acct != prevAcct {
				if err := setHead(prevAcct, prev); err != nil {
					return err
				}
				prev, prevAcct = nil, r.acct
			}
			e := auditchain.Link(prev, r.e)
			if _, err := upd.ExecContext(ctx, e.Seq, e.PrevHash, e.Hash, r.rowid); err != nil {
				return err
			}
			prev = &e
		}
		if len(batch) < chainBatch {
			break
		}
		afterAcct, afterSeq = batch[len(batch)-1].acct, batch[len(batch)-1].rowid
	}
	if err := setHead(prevAcct, prev); err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `DROP INDEX audit_events_account;
		CREATE UNIQUE INDEX audit_events_chain ON audit_events (account_id, account_seq)`)
	return err
}
