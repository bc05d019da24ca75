package sqlite

import (
	"context"
	"time"

	"sessionguard/server/store"
)

// AppendOutbox adds an entry for the servers' event streams and returns its
// Seq. The single write connection hands out seqs in commit order, so a
// reader that has seen seq n never misses a later commit below it.
func (s *Store) AppendOutbox(ctx context.Context, at time.Time, data []byte) (int64, error) {
	res, err := s.st.appendOutbox.ExecContext(ctx, micros(at), nonNil(data))
	if err != nil {
		return 0, s.wrap("append outbox", err)
	}
	seq, err := res.LastInsertId()
	if err != nil {
		return 0, s.wrap("append outbox", err)
	}
	return seq, nil
}

// ReadOutbox returns up to limit entries with Seq above after, in Seq
// order. A limit of 0 or less returns nothing.
func (s *Store) ReadOutbox(ctx context.Context, after int64, limit int) ([]store.OutboxEntry, error) {
	const op = "read outbox"
	if limit <= 0 {
		return nil, nil
	}
	rows, err := s.st.readOutbox.QueryContext(ctx, after, limit)
	if err != nil {
		return nil, s.wrap(op, err)
	}
	defer rows.Close()
	var out []store.OutboxEntry
	for rows.Next() {
		var (
			e  store.OutboxEntry
			at int64
		)
		if err := rows.Scan(&e.Seq, &at, &e.Data); err != nil {
			return nil, s.wrap(op, err)
		}
		e.At = fromMicros(at)
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(op, err)
	}
	return out, nil
}

// OutboxHead returns the highest Seq handed out, 0 for none, purged
// entries included.
func (s *Store) OutboxHead(ctx context.Context) (int64, error) {
	var seq int64
	if err := s.st.outboxHead.QueryRowContext(ctx).Scan(&seq); err != nil {
		return 0, s.wrap("outbox head", err)
	}
	return seq, nil
}
