package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"sessionguard/api"
	"sessionguard/api/auditchain"
)

// goSteps are the parts of migrations written in Go: goSteps[v] runs after
// the SQL of migration v, in its transaction (under the migration lock).
var goSteps = map[int]func(ctx context.Context, tx pgx.Tx) error{
	7: chainExistingAudit,
}

// chainBatch is how many events chainExistingAudit reads and updates at a
// time (a variable so that tests can make batches small).
var chainBatch = 1000

const (
	// chainReadSQL reads the next batch of events written before
	// migration 7, after the event ($1, $2): by account, then in the order
	// they were written (the store-wide seq), a range of the primary key
	// (account_id, seq) of the time. The events updated so far come before
	// the range, so updating them does not disturb the reads.
	chainReadSQL = `SELECT seq, account_id, id, at, type, ip, loc_city, loc_region, loc_country, loc_country_code,
			session_id, device_name, target_session_id, target_device_name, detail
		FROM audit_events WHERE (account_id, seq) > ($1, $2) ORDER BY account_id, seq LIMIT $3`
	// chainFirstSQL reads the first batch.
	chainFirstSQL = `SELECT seq, account_id, id, at, type, ip, loc_city, loc_region, loc_country, loc_country_code,
			session_id, device_name, target_session_id, target_device_name, detail
		FROM audit_events ORDER BY account_id, seq LIMIT $1`
	// chainUpdateSQL sets the chain columns of a batch of events, each
	// found by its primary key (account_id, seq).
	chainUpdateSQL = `UPDATE audit_events AS e SET account_seq = u.account_seq, prev_hash = u.prev_hash, hash = u.hash
		FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::text[], $5::text[])
			AS u (account_id, seq, account_seq, prev_hash, hash)
		WHERE e.account_id = u.account_id AND e.seq = u.seq`
	// chainHeadsSQL records a batch of accounts' heads.
	chainHeadsSQL = `INSERT INTO audit_heads (account_id, seq, hash, at)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::timestamptz[])`
	// chainDoneSQL makes the chain columns required and the account's
	// sequence the key, now that every event has them.
	chainDoneSQL = `ALTER TABLE audit_events
		ALTER COLUMN account_seq SET NOT NULL,
		ALTER COLUMN prev_hash SET NOT NULL,
		ALTER COLUMN hash SET NOT NULL,
		DROP CONSTRAINT audit_events_account,
		ADD CONSTRAINT audit_events_chain PRIMARY KEY (account_id, account_seq)`
)

// chainExistingAudit is migration 7's Go step. It chains the events written
// before it: each account's in the order they were written (the
// store-wide seq), from 1, as auditchain.Link links them (over the event
// as read back: UTC, microseconds), and records each account's head; then
// it runs chainDoneSQL. It reads and updates chainBatch events at a time
// and records heads chainBatch at a time, so its memory does not grow with
// the log.
func chainExistingAudit(ctx context.Context, tx pgx.Tx) error {
	type row struct {
		seq  int64 // the store-wide seq
		acct string
		e    api.AuditEvent
	}
	var (
		batch = make([]row, 0, chainBatch)
		// The update of a batch.
		uAcct, uHash, uPrev []string
		uSeq, uAccountSeq   []int64
		// Heads to record.
		hAcct, hHash []string
		hSeq         []int64
		hAt          []time.Time
		// The last event linked, of account prevAcct (nil: none yet).
		prev     *api.AuditEvent
		prevAcct string
	)
	flushHeads := func() error {
		if len(hAcct) == 0 {
			return nil
		}
		_, err := tx.Exec(ctx, chainHeadsSQL, hAcct, hSeq, hHash, hAt)
		hAcct, hSeq, hHash, hAt = hAcct[:0], hSeq[:0], hHash[:0], hAt[:0]
		return err
	}
	addHead := func() error {
		if prev == nil {
			return nil
		}
		hAcct, hSeq, hHash, hAt = append(hAcct, prevAcct), append(hSeq, prev.Seq), append(hHash, prev.Hash), append(hAt, prev.At)
		if len(hAcct) >= chainBatch {
			return flushHeads()
		}
		return nil
	}
	for first := true; ; first = false {
		var rows pgx.Rows
		var err error
		if first {
			rows, err = tx.Query(ctx, chainFirstSQL, chainBatch)
		} else {
			last := batch[len(batch)-1]
			rows, err = tx.Query(ctx, chainReadSQL, last.acct, last.seq, chainBatch)
		}
		if err != nil {
			return err
		}
		batch = batch[:0]
		var r row
		e, l := &r.e, &r.e.Location
		if _, err := pgx.ForEachRow(rows, []any{&r.seq, &r.acct, &e.ID, &e.At, &e.Type, &e.IP,
			&l.City, &l.Region, &l.Country, &l.CountryCode,
			&e.SessionID, &e.DeviceName, &e.TargetSessionID, &e.TargetDeviceName, &e.Detail}, func() error {
			batch = append(batch, r)
			return nil
		}); err != nil {
			return err
		}

		uAcct, uSeq, uAccountSeq, uPrev, uHash = uAcct[:0], uSeq[:0], uAccountSeq[:0], uPrev[:0], uHash[:0]
		for _, r := range batch {
			if r.acct != prevAcct || prev == nil {
				if err := addHead(); err != nil {
					return err
				}
				prev, prevAcct = nil, r.acct
			}
			e := auditchain.Link(prev, r.e)
			prev = &e
			uAcct, uSeq, uAccountSeq = append(uAcct, r.acct), append(uSeq, r.seq), append(uAccountSeq, e.Seq)
			uPrev, uHash = append(uPrev, e.PrevHash), append(uHash, e.Hash)
		}
		if len(batch) > 0 {
			if _, err := tx.Exec(ctx, chainUpdateSQL, uAcct, uSeq, uAccountSeq, uPrev, uHash); err != nil {
				return err
			}
		}
		if len(batch) < chainBatch {
			break
		}
	}
	if err := addHead(); err != nil {
		return err
	}
	if err := flushHeads(); err != nil {
		return err
	}
	_, err := tx.Exec(ctx, chainDoneSQL)
	return err
}
