// Package purge is the batching behind store.Store's Purge, shared by the
// SQLite and PostgreSQL stores: they supply one batch of each kind of
// deletion, each its own transaction, and Run repeats each until it is
// done, so that no transaction deletes more than a batch however much
// there is to purge.
package purge

import (
	"context"
	"time"

	"sessionguard/server/store"
)

// Batch is the default batch size: rows one transaction deletes at most
// (per kind; an ended-sessions batch deletes up to Batch refresh tokens
// and Batch sessions).
const Batch = 1000

// Batches deletes one batch of each kind, each in its own transaction, and
// says how many rows it deleted.
type Batches interface {
	// EndedSessions deletes up to limit refresh tokens of the first limit
	// sessions that ended before before, then those of these sessions
	// that have no refresh tokens left.
	EndedSessions(ctx context.Context, before time.Time, limit int) (sessions, tokens int, err error)
	// RotatedTokens deletes up to limit refresh tokens rotated before
	// before.
	RotatedTokens(ctx context.Context, before time.Time, limit int) (int, error)
	// Remembered deletes up to limit remembered logins expired by now
	// (ExpiresAt at or before it).
	Remembered(ctx context.Context, now time.Time, limit int) (int, error)
	// MFATokens deletes up to limit MFA tokens expired by now.
	MFATokens(ctx context.Context, now time.Time, limit int) (int, error)
	// Approvals deletes up to limit approvals expired by now.
	Approvals(ctx context.Context, now time.Time, limit int) (int, error)
	// Installs deletes up to limit known installs last used before before.
	Installs(ctx context.Context, before time.Time, limit int) (int, error)
	// Outbox deletes up to limit outbox entries written before before.
	Outbox(ctx context.Context, before time.Time, limit int) (int, error)
}

// Run purges what store.Store's Purge says, batch after batch of at most
// limit rows. Ended sessions go first, so that their rotated refresh
// tokens go with them rather than count as those of kept sessions. On an
// error it returns what it had deleted so far with it.
func Run(ctx context.Context, b Batches, now, before time.Time, limit int) (store.PurgeCounts, error) {
	var c store.PurgeCounts
	for {
		sessions, tokens, err := b.EndedSessions(ctx, before, limit)
		c.Sessions += sessions
		if err != nil {
			return c, err
		}
		// Fewer tokens than a batch: every selected session lost its
		// last ones and went, so fewer sessions than a batch means
		// none is left.
		if tokens < limit && sessions < limit {
			break
		}
	}
	kinds := []struct {
		n     *int
		batch func(context.Context, time.Time, int) (int, error)
		at    time.Time
	}{
		{&c.RefreshTokens, b.RotatedTokens, before},
		{&c.Remembered, b.Remembered, now},
		{&c.MFATokens, b.MFATokens, now},
		{&c.Approvals, b.Approvals, now},
		{&c.Installs, b.Installs, before},
		{&c.Outbox, b.Outbox, before},
	}
	for _, k := range kinds {
		for {
			n, err := k.batch(ctx, k.at, limit)
			*k.n += n
			if err != nil {
				return c, err
			}
			if n < limit {
				break
			}
		}
	}
	return c, nil
}
