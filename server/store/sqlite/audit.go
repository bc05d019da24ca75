package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"math"

	"sessionguard/api"
	"sessionguard/api/auditchain"
	"sessionguard/server/store"
)

// AppendAudit adds events to the account's log in one IMMEDIATE
// transaction and returns the Seq of the last (0 for none).
func (s *Store) AppendAudit(ctx context.Context, accountID string, events ...api.AuditEvent) (int64, error) {
	if len(events) == 0 {
		return 0, nil
	}
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return 0, s.wrap("append audit", err)
	}
	defer tx.Rollback()
	seq, err := s.chainTx(ctx, tx, "append audit", accountID, events)
	if err != nil {
		return 0, err
	}
	return seq, s.wrap("append audit", tx.Commit())
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
	out := make([]store.AuditRecord, 0, min(limit, 64))
	err := s.queryAudit(ctx, "list audit", s.st.listAudit, func(accountID string, e api.AuditEvent) error {
		out = append(out, store.AuditRecord{Seq: e.Seq, AccountID: accountID, Event: e})
		return nil
	}, accountID, beforeSeq, limit)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AuditSince returns up to limit events of the account with Seq above
// afterSeq, oldest first.
func (s *Store) AuditSince(ctx context.Context, accountID string, afterSeq int64, limit int) ([]api.AuditEvent, error) {
	if limit <= 0 {
		return nil, nil
	}
	out := make([]api.AuditEvent, 0, min(limit, 256))
	err := s.queryAudit(ctx, "audit since", s.st.auditSince, func(_ string, e api.AuditEvent) error {
		out = append(out, e)
		return nil
	}, accountID, afterSeq, limit)
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AuditHead returns the account's recorded head.
func (s *Store) AuditHead(ctx context.Context, accountID string) (api.AuditHead, error) {
	h := api.AuditHead{AccountID: accountID, Hash: api.GenesisHash}
	var at int64
	err := s.st.auditHead.QueryRowContext(ctx, accountID).Scan(&h.Seq, &h.Hash, &at)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return h, nil
	case err != nil:
		return h, s.wrap("audit head", err)
	}
	h.At = fromMicros(at)
	return h, nil
}

// WalkAudit calls fn with every event, by account then Seq, from one read
// transaction (a consistent view; WAL lets writers go on meanwhile).
func (s *Store) WalkAudit(ctx context.Context, fn func(accountID string, e api.AuditEvent) error) error {
	return s.queryAudit(ctx, "walk audit", s.st.walkAudit, fn)
}

// WalkAuditHeads calls fn with every account's recorded head, by account.
func (s *Store) WalkAuditHeads(ctx context.Context, fn func(api.AuditHead) error) error {
	rows, err := s.st.walkAuditHeads.QueryContext(ctx)
	if err != nil {
		return s.wrap("walk audit heads", err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			h  api.AuditHead
			at int64
		)
		if err := rows.Scan(&h.AccountID, &h.Seq, &h.Hash, &at); err != nil {
			return s.wrap("walk audit heads", err)
		}
		h.At = fromMicros(at)
		if err := fn(h); err != nil {
			return err
		}
	}
	return s.wrap("walk audit heads", rows.Err())
}

// queryAudit runs st, a SELECT of columns.Audit, and calls fn per row.
func (s *Store) queryAudit(ctx context.Context, op string, st *sql.Stmt, fn func(accountID string, e api.AuditEvent) error, args ...any) error {
	rows, err := st.QueryContext(ctx, args...)
	if err != nil {
		return s.wrap(op, err)
	}
	defer rows.Close()
	for rows.Next() {
		var (
			acct string
			e    api.AuditEvent
			at   int64
		)
		if err := rows.Scan(&e.Seq, &acct, &e.ID, &at, &e.Type, &e.IP,
			&e.Location.City, &e.Location.Region, &e.Location.Country, &e.Location.CountryCode,
			&e.SessionID, &e.DeviceName, &e.TargetSessionID, &e.TargetDeviceName, &e.Detail,
			&e.PrevHash, &e.Hash); err != nil {
			return s.wrap(op, err)
		}
		e.At = fromMicros(at)
		if err := fn(acct, e); err != nil {
			return err
		}
	}
	return s.wrap(op, rows.Err())
}

// appendAuditTx appends events to the account's log inside tx.
func (s *Store) appendAuditTx(ctx context.Context, tx *sql.Tx, op, accountID string, events ...api.AuditEvent) error {
	_, err := s.chainTx(ctx, tx, op, accountID, events)
	return err
}

// chainTx links events after the account's head, inserts them and moves
// the head, inside tx, and returns the last Seq. There is one writer (an
// IMMEDIATE transaction holds the database's write lock from its start,
// across processes too), so no other append comes between the head's read
// and the commit.
func (s *Store) chainTx(ctx context.Context, tx *sql.Tx, op, accountID string, events []api.AuditEvent) (int64, error) {
	if len(events) == 0 {
		return 0, nil
	}
	seq, hash := int64(0), api.GenesisHash
	err := tx.StmtContext(ctx, s.st.txAuditHead).QueryRowContext(ctx, accountID).Scan(&seq, &hash)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, s.wrap(op, err)
	}
	chained := make([]api.AuditEvent, len(events))
	copy(chained, events)
	auditchain.Chain(seq, hash, chained)
	ins := tx.StmtContext(ctx, s.st.appendAudit)
	for _, e := range chained {
		if _, err := ins.ExecContext(ctx, auditArgs(accountID, e)...); err != nil {
			return 0, s.wrap(op, err)
		}
	}
	last := chained[len(chained)-1]
	if _, err := tx.StmtContext(ctx, s.st.setAuditHead).ExecContext(ctx, accountID, last.Seq, last.Hash, micros(last.At)); err != nil {
		return 0, s.wrap(op, err)
	}
	return last.Seq, nil
}

// auditArgs are the arguments of appendAudit for e, chained.
func auditArgs(accountID string, e api.AuditEvent) []any {
	return []any{accountID, e.ID, micros(e.At), e.Type, e.IP,
		e.Location.City, e.Location.Region, e.Location.Country, e.Location.CountryCode,
		e.SessionID, e.DeviceName, e.TargetSessionID, e.TargetDeviceName, e.Detail,
		e.Seq, e.PrevHash, e.Hash}
}
