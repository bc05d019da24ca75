package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"sessionguard/api"
	"sessionguard/api/auditchain"
	"sessionguard/server/store"
	"sessionguard/server/store/internal/columns"
)

// AppendAudit adds events to the account's log, chained after its head, in
// one transaction, and returns the Seq of the last (0 for none).
func (s *Store) AppendAudit(ctx context.Context, accountID string, events ...api.AuditEvent) (int64, error) {
	if len(events) == 0 {
		// Nothing to write, but a closed Store or a cancelled context
		// still says so.
		return 0, s.run(ctx, "append audit", func(ctx context.Context) error {
			if s.closed.Load() {
				return errClosed
			}
			return ctx.Err()
		})
	}
	var seq int64
	err := s.tx(ctx, "append audit", func(ctx context.Context, tx pgx.Tx) error {
		linked, err := chainAuditTx(ctx, tx, repeat(accountID, len(events)), events)
		if err != nil {
			return err
		}
		seq = linked[len(linked)-1].Seq
		return nil
	})
	if err != nil {
		return 0, err
	}
	return seq, nil
}

// repeat is a slice of n times s.
func repeat(s string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = s
	}
	return out
}

// appendAuditTx appends events to the account's log inside tx: last in
// the transaction, as it locks the account's head (see chainAuditTx).
func appendAuditTx(ctx context.Context, tx pgx.Tx, accountID string, events ...api.AuditEvent) error {
	_, err := chainAuditTx(ctx, tx, repeat(accountID, len(events)), events)
	return err
}

// appendAuditsTx appends events[i] to the log of accounts[i], each
// account's in array order, inside tx, in three statements whatever their
// number (see chainAuditTx).
func appendAuditsTx(ctx context.Context, tx pgx.Tx, accounts []string, events []api.AuditEvent) error {
	_, err := chainAuditTx(ctx, tx, accounts, events)
	return err
}

// The statements of chainAuditTx. The head of an account with no event
// yet is a placeholder row (seq 0, api.GenesisHash, the zero time) that
// insertHeadsSQL inserts so that there is a row to lock; it never commits
// as it is, for the append that inserted it moves it to its last event.
const (
	zeroHeadAt = `'0001-01-01 00:00:00+00'::timestamptz`

	// insertHeadsSQL inserts the placeholder head of each account of $1
	// (distinct, in byte order) that has none. A concurrent transaction
	// inserting the same account's waits for this one to end, then
	// skips it.
	insertHeadsSQL = `INSERT INTO audit_heads (account_id, seq, hash, at)
		SELECT a, 0, '` + api.GenesisHash + `', ` + zeroHeadAt + `
		FROM unnest($1::text[]) WITH ORDINALITY AS u (a, n) ORDER BY n
		ON CONFLICT (account_id) DO NOTHING`

	// lockHeadsSQL locks the heads of the accounts $1, in account order,
	// and reads them as the last transaction that held them left them.
	lockHeadsSQL = `SELECT account_id, seq, hash FROM audit_heads
		WHERE account_id = ANY($1::text[]) ORDER BY account_id FOR UPDATE`

	// insertAuditSQL inserts one event per element of its 17 arrays (the
	// columns of columns.Audit, in array order) and moves the heads $18
	// to the seq $19, hash $20 and time $21 of their last event, in one
	// statement (the heads are locked already).
	insertAuditSQL = `WITH ins AS (
		INSERT INTO audit_events (` + columns.Audit + `)
		SELECT s, a, i, t, ty, ip, c, r, co, cc, se, d, ts, td, de, p, h
		FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[], $5::text[], $6::text[],
			$7::text[], $8::text[], $9::text[], $10::text[], $11::text[], $12::text[], $13::text[],
			$14::text[], $15::text[], $16::text[], $17::text[])
			WITH ORDINALITY AS e (s, a, i, t, ty, ip, c, r, co, cc, se, d, ts, td, de, p, h, n)
		ORDER BY n
	)
	UPDATE audit_heads AS h SET seq = u.seq, hash = u.hash, at = u.at
	FROM unnest($18::text[], $19::bigint[], $20::text[], $21::timestamptz[]) AS u (account_id, seq, hash, at)
	WHERE h.account_id = u.account_id`
)

// chainAuditTx appends events[i] to the log of accounts[i] inside tx and
// returns the events as stored (linked: normalized, with Seq, PrevHash and
// Hash). It is the one way events are written, and it comes last in its
// transaction, for it locks the accounts' heads:
//
//  1. it inserts the placeholder head of each account that has none and
//     locks every account's head row FOR UPDATE, in account order (one
//     round trip, two statements: under READ COMMITTED the lock's SELECT
//     takes a snapshot after the insert, or after the insert it waited
//     for, and FOR UPDATE reads the newest committed head in any case);
//  2. it links each account's events after its head, in array order;
//  3. it inserts them and moves the heads, in one statement.
//
// A concurrent append for one of the accounts, on this replica or
// another, waits at 1 for this transaction to end and then reads the head
// it left: appends of an account are serialized and the chain never forks
// (the primary key (account_id, account_seq) would refuse a fork anyway).
func chainAuditTx(ctx context.Context, tx pgx.Tx, accounts []string, events []api.AuditEvent) ([]api.AuditEvent, error) {
	if len(events) == 0 {
		return nil, nil
	}
	if len(accounts) != len(events) {
		return nil, fmt.Errorf("%d accounts for %d audit events", len(accounts), len(events))
	}
	ids := slices.Clone(accounts)
	slices.Sort(ids) // byte order: the order of account_id COLLATE "C"
	ids = slices.Compact(ids)

	heads := make(map[string]api.AuditEvent, len(ids))
	b := &pgx.Batch{}
	b.Queue(insertHeadsSQL, ids)
	b.Queue(lockHeadsSQL, ids).Query(func(rows pgx.Rows) error {
		var (
			id   string
			head api.AuditEvent
		)
		_, err := pgx.ForEachRow(rows, []any{&id, &head.Seq, &head.Hash}, func() error {
			heads[id] = head
			return nil
		})
		return err
	})
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	if len(heads) != len(ids) {
		return nil, errors.New("audit heads: a head row is missing after its insert")
	}

	// The arrays of insertAuditSQL: columns.Audit's, one element per
	// event, then the heads'.
	n := len(events)
	linked := make([]api.AuditEvent, n)
	seqs, at := make([]int64, n), make([]time.Time, n)
	var text [15][]string // account_id, id, then type … detail, prev_hash, hash
	for k := range text {
		text[k] = make([]string, n)
	}
	for i, e := range events {
		prev := heads[accounts[i]]
		e = auditchain.Link(&prev, e)
		heads[accounts[i]] = e
		linked[i], seqs[i], at[i] = e, e.Seq, e.At
		l := e.Location
		for k, v := range [...]string{accounts[i], e.ID, e.Type, e.IP, l.City, l.Region, l.Country, l.CountryCode,
			e.SessionID, e.DeviceName, e.TargetSessionID, e.TargetDeviceName, e.Detail, e.PrevHash, e.Hash} {
			text[k][i] = v
		}
	}
	headSeqs, headHashes, headAt := make([]int64, len(ids)), make([]string, len(ids)), make([]time.Time, len(ids))
	for k, id := range ids {
		last := heads[id]
		headSeqs[k], headHashes[k], headAt[k] = last.Seq, last.Hash, last.At
	}
	tag, err := tx.Exec(ctx, insertAuditSQL,
		seqs, text[0], text[1], at, text[2], text[3], text[4], text[5], text[6], text[7],
		text[8], text[9], text[10], text[11], text[12], text[13], text[14],
		ids, headSeqs, headHashes, headAt)
	if err != nil {
		return nil, err
	}
	if tag.RowsAffected() != int64(len(ids)) {
		return nil, fmt.Errorf("audit heads: moved %d of %d", tag.RowsAffected(), len(ids))
	}
	return linked, nil
}

// The reads of the log, SELECTs of columns.Audit: each a range of the
// primary key (account_id, account_seq).
const (
	listAuditSQL = `SELECT ` + columns.Audit + ` FROM audit_events
		WHERE account_id = $1 AND account_seq < $2 ORDER BY account_seq DESC LIMIT $3`
	auditSinceSQL = `SELECT ` + columns.Audit + ` FROM audit_events
		WHERE account_id = $1 AND account_seq > $2 ORDER BY account_seq LIMIT $3`
	walkAuditSQL = `SELECT ` + columns.Audit + ` FROM audit_events
		WHERE (account_id, account_seq) > ($1, $2) ORDER BY account_id, account_seq LIMIT $3`
	walkAuditFirstSQL = `SELECT ` + columns.Audit + ` FROM audit_events
		ORDER BY account_id, account_seq LIMIT $1`
)

// auditDest are the scan targets of a row of columns.Audit into acct and e.
func auditDest(acct *string, e *api.AuditEvent) []any {
	l := &e.Location
	return []any{&e.Seq, acct, &e.ID, &e.At, &e.Type, &e.IP,
		&l.City, &l.Region, &l.Country, &l.CountryCode,
		&e.SessionID, &e.DeviceName, &e.TargetSessionID, &e.TargetDeviceName, &e.Detail,
		&e.PrevHash, &e.Hash}
}

// auditRow is one row of columns.Audit.
type auditRow struct {
	account string
	event   api.AuditEvent
}

// queryAudit runs query, a SELECT of columns.Audit, and returns its rows
// (at most limit of them), retried as a whole on transient failures.
func (s *Store) queryAudit(ctx context.Context, op, query string, limit int, args ...any) ([]auditRow, error) {
	var out []auditRow
	err := s.run(ctx, op, func(ctx context.Context) error {
		rows, err := s.pool.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		out = make([]auditRow, 0, min(limit, 256))
		var r auditRow
		_, err = pgx.ForEachRow(rows, auditDest(&r.account, &r.event), func() error {
			out = append(out, r)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// ListAudit returns up to limit events of the account, newest first, with
// Seq below beforeSeq (0 or less: from the newest): a backward range scan
// of the primary key. A limit of 0 or less returns nothing.
func (s *Store) ListAudit(ctx context.Context, accountID string, beforeSeq int64, limit int) ([]store.AuditRecord, error) {
	if limit <= 0 {
		return nil, nil
	}
	if beforeSeq <= 0 {
		beforeSeq = math.MaxInt64
	}
	rows, err := s.queryAudit(ctx, "list audit", listAuditSQL, limit, accountID, beforeSeq, limit)
	if err != nil {
		return nil, err
	}
	out := make([]store.AuditRecord, len(rows))
	for i, r := range rows {
		out[i] = store.AuditRecord{Seq: r.event.Seq, AccountID: r.account, Event: r.event}
	}
	return out, nil
}

// AuditSince returns up to limit events of the account with Seq above
// afterSeq, oldest first. A limit of 0 or less returns nothing.
func (s *Store) AuditSince(ctx context.Context, accountID string, afterSeq int64, limit int) ([]api.AuditEvent, error) {
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.queryAudit(ctx, "audit since", auditSinceSQL, limit, accountID, afterSeq, limit)
	if err != nil {
		return nil, err
	}
	out := make([]api.AuditEvent, len(rows))
	for i, r := range rows {
		out[i] = r.event
	}
	return out, nil
}

// AuditHead returns the account's recorded head; for an account with no
// event, Seq 0, api.GenesisHash and the zero time.
func (s *Store) AuditHead(ctx context.Context, accountID string) (api.AuditHead, error) {
	var h api.AuditHead
	err := s.run(ctx, "audit head", func(ctx context.Context) error {
		h = api.AuditHead{AccountID: accountID}
		err := s.pool.QueryRow(ctx, `SELECT seq, hash, at FROM audit_heads WHERE account_id = $1`,
			accountID).Scan(&h.Seq, &h.Hash, &h.At)
		if errors.Is(err, pgx.ErrNoRows) || (err == nil && h.Seq == 0) {
			// No event yet. (A head of Seq 0 is the placeholder of an
			// append in progress, never committed by this store.)
			h = api.AuditHead{AccountID: accountID, Hash: api.GenesisHash}
			return nil
		}
		return err
	})
	if err != nil {
		return api.AuditHead{}, err
	}
	return h, nil
}

// walkBatch is how many rows WalkAudit and WalkAuditHeads read at a time
// (a variable so that tests can make batches small).
var walkBatch = 1000

// WalkAudit calls fn with every event of every account, by account then
// Seq. It reads walkBatch events at a time, each batch a keyset range of
// the primary key read in a call of its own (with its own timeout and
// retries), and calls fn between reads, holding no connection: its memory
// does not grow with the log, a log of any size is read however long
// fn takes, and fn may call the Store. Events appended meanwhile after
// the walk's position are seen; a walk does not read one snapshot.
func (s *Store) WalkAudit(ctx context.Context, fn func(accountID string, e api.AuditEvent) error) error {
	var (
		rows []auditRow
		err  error
	)
	for first := true; ; first = false {
		if first {
			rows, err = s.queryAudit(ctx, "walk audit", walkAuditFirstSQL, walkBatch, walkBatch)
		} else {
			last := rows[len(rows)-1]
			rows, err = s.queryAudit(ctx, "walk audit", walkAuditSQL, walkBatch, last.account, last.event.Seq, walkBatch)
		}
		if err != nil {
			return err
		}
		for _, r := range rows {
			if err := fn(r.account, r.event); err != nil {
				return err
			}
		}
		if len(rows) < walkBatch {
			return nil
		}
	}
}

// WalkAuditHeads calls fn with every account's recorded head, by account,
// reading walkBatch heads at a time as WalkAudit reads events.
func (s *Store) WalkAuditHeads(ctx context.Context, fn func(api.AuditHead) error) error {
	const cols = `SELECT account_id, seq, hash, at FROM audit_heads WHERE seq > 0`
	var heads []api.AuditHead
	for first := true; ; first = false {
		query, args := cols+` ORDER BY account_id LIMIT $1`, []any{walkBatch}
		if !first {
			query, args = cols+` AND account_id > $2 ORDER BY account_id LIMIT $1`,
				[]any{walkBatch, heads[len(heads)-1].AccountID}
		}
		err := s.run(ctx, "walk audit heads", func(ctx context.Context) error {
			rows, err := s.pool.Query(ctx, query, args...)
			if err != nil {
				return err
			}
			heads = make([]api.AuditHead, 0, min(walkBatch, 256))
			var h api.AuditHead
			_, err = pgx.ForEachRow(rows, []any{&h.AccountID, &h.Seq, &h.Hash, &h.At}, func() error {
				heads = append(heads, h)
				return nil
			})
			return err
		})
		if err != nil {
			return err
		}
		for _, h := range heads {
			if err := fn(h); err != nil {
				return err
			}
		}
		if len(heads) < walkBatch {
			return nil
		}
	}
}
