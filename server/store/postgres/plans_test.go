package postgres

import (
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sessionguard/api"
	"sessionguard/server/store/internal/columns"
)

// TestQueryPlans checks that the hot queries are index scans in the order
// they return rows, with no sort (but where a few rows are sorted by
// design) and no sequential scan, on a database shaped like a real one:
// 2,000 small accounts and one with 10,000 live sessions and 20,000 of the
// 140,000 audit events, statistics up to date. Sequential scans are
// disabled so that small tables (recovery codes, MFA tokens) are judged by
// the index they would use once they are large.
func TestQueryPlans(t *testing.T) {
	s := openTemp(t)
	ctx := t.Context()
	base := time.Now().Truncate(time.Microsecond)
	if _, err := s.pool.Exec(ctx, `INSERT INTO accounts (id, username, password_hash, created_at)
		SELECT 'acc_' || i, 'user_' || i, 'x', now() FROM generate_series(0, 2000) AS i`); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	seedSessions(t, s, "acc_0", 10_000, base)
	seedAudit(t, s, "acc_0", 20_000, base)
	accounts, events := make([]string, 100_000), make([]api.AuditEvent, 100_000)
	for i := range events {
		accounts[i], events[i] = fmt.Sprint("acc_", 1+(i+1)%2000), api.AuditEvent{ID: "evt", At: base, Type: api.AuditLogout}
	}
	seedEvents(t, s, accounts, events)
	// The small accounts' sessions: four each.
	if _, err := s.pool.Exec(ctx, `INSERT INTO sessions (id, account_id, created_at, last_seen_at, auth_time, expires_at,
			absolute_expires_at, access_hash, access_expires_at)
		SELECT 'ses_small_' || i, 'acc_' || (1 + i % 2000), now(), now(), now(), now() + interval '1 day',
			now() + interval '1 day', sha256(convert_to('small' || i, 'UTF8')), now()
		FROM generate_series(1, 8000) AS i`); err != nil {
		t.Fatal(err)
	}
	// Remembered logins, recovery codes and MFA tokens: a few per account.
	for _, q := range []string{
		`INSERT INTO remembered_logins (hash, account_id, device_id, created_at, expires_at, auth_time)
			SELECT sha256(convert_to('rem' || i, 'UTF8')), 'acc_' || (i % 2001), 'dev_' || (i % 3), now(), now(), now()
			FROM generate_series(1, 6000) AS i`,
		`INSERT INTO recovery_codes (account_id, hash)
			SELECT 'acc_' || (i % 2001), sha256(convert_to('code' || i, 'UTF8')) FROM generate_series(1, 20000) AS i`,
		`INSERT INTO mfa_tokens (hash, account_id, created_at, expires_at)
			SELECT sha256(convert_to('mfa' || i, 'UTF8')), 'acc_' || (i % 2001), now(), now() + (i % 600) * interval '1 second'
			FROM generate_series(1, 6000) AS i`,
		// Known installs, and a year of an outbox.
		`INSERT INTO known_installs (account_id, install_hash, first_seen, last_used)
			SELECT 'acc_' || (i % 2001), sha256(convert_to('install' || i, 'UTF8')), now() - interval '1 year', now() - (i % 365) * interval '1 day'
			FROM generate_series(1, 4000) AS i`,
		`INSERT INTO outbox (at, data) SELECT now() - i * interval '1 hour', '\x00' FROM generate_series(1, 8760) AS i`,
	} {
		if _, err := s.pool.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	// The big account's refresh tokens of a year, rotated every ten
	// minutes, half of them older than the cutoff below.
	if _, err := s.pool.Exec(ctx, `INSERT INTO refresh_tokens (hash, session_id, issued_at, expires_at, rotated_at)
		SELECT sha256(convert_to('rot' || i, 'UTF8')), $1, $2::timestamptz - i * interval '10 minutes',
			$2::timestamptz + interval '1 day', $2::timestamptz - (i - 1) * interval '10 minutes'
		FROM generate_series(1, 50000) AS i`, sessionID("acc_0", 1), base); err != nil {
		t.Fatal(err)
	}
	// Closure tokens: two for each of the big account's revoked sessions.
	if _, err := s.pool.Exec(ctx, `INSERT INTO closure_tokens (hash, session_id, issued_at)
		SELECT sha256(convert_to('ct' || k || id, 'UTF8')), id, revoked_at
		FROM sessions, generate_series(1, 2) AS k WHERE account_id = 'acc_0' AND revoked_at IS NOT NULL`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `ANALYZE accounts, sessions, refresh_tokens, remembered_logins, recovery_codes, mfa_tokens,
		audit_events, audit_heads, known_installs, outbox, closure_tokens`); err != nil {
		t.Fatal(err)
	}

	t.Logf("seeded in %v", time.Since(start))
	var auditMid int64
	if err := s.pool.QueryRow(ctx, `SELECT account_seq FROM audit_events WHERE account_id = 'acc_0' ORDER BY account_seq OFFSET 10000 LIMIT 1`).Scan(&auditMid); err != nil {
		t.Fatal(err)
	}
	small := "acc_1000"
	cutoff := base.Add(-90 * 24 * time.Hour)
	cases := []struct {
		name, query string
		args        []any
		index       string
	}{
		{"SessionByAccessHash", `SELECT ` + columns.Session + ` FROM sessions WHERE access_hash = $1`,
			[]any{accessHash(sessionID("acc_0", 7))}, "sessions_access_hash"},
		{"ListSessions", listSessionsSQL, []any{small, base, "x", 50}, "sessions_live_by_account"},
		{"ListSessions, big account", listSessionsSQL, []any{"acc_0", base, "x", 50}, "sessions_live_by_account"},
		{"ListSessions after", listSessionsAfterSQL, []any{small, base, "x", base, "ses_y", 50}, "sessions_live_by_account"},
		{"ListSessions after, big account", listSessionsAfterSQL,
			[]any{"acc_0", base, "x", base.Add(-time.Hour), sessionID("acc_0", 3600), 50}, "sessions_live_by_account"},
		// A search walks the account's live sessions in list order,
		// filtering them, and stops at the page's end: at once when most
		// match, after all of them when none does. A count reads the
		// account's live sessions, and only them.
		{"SearchSessions", searchSessionsSQL, []any{small, base, "x", 50, "%pixel%"}, "sessions_live_by_account"},
		{"SearchSessions, big account", searchSessionsSQL, []any{"acc_0", base, "x", 50, "%pixel%"}, "sessions_live_by_account"},
		{"SearchSessions, big account, no match", searchSessionsSQL, []any{"acc_0", base, "x", 50, "%kitchen%"}, "sessions_live_by_account"},
		{"SearchSessions after, big account", searchSessionsAfterSQL,
			[]any{"acc_0", base, "x", base.Add(-time.Hour), sessionID("acc_0", 3600), 50, "%zur%"}, "sessions_live_by_account"},
		{"CountSessions", countSessionsSQL, []any{small, base, "x", base.Add(-24 * time.Hour)}, "sessions_live_by_account"},
		{"CountSessions, big account", countSessionsSQL, []any{"acc_0", base, "x", base.Add(-24 * time.Hour)}, "sessions_live_by_account"},
		{"CountSessions matching, big account", countMatchingSQL,
			[]any{"acc_0", base, "x", base.Add(-24 * time.Hour), "%kitchen%"}, "sessions_live_by_account"},
		{"RevokeOtherSessions", revokeOthersSQL, []any{base, "r", "", "", false, nil, false, small, "x"}, "sessions_live_by_account"},
		{"ListAudit, big account", listAuditSQL, []any{"acc_0", int64(math.MaxInt64), 50}, "audit_events_chain"},
		{"ListAudit, big account, middle", listAuditSQL, []any{"acc_0", auditMid, 50}, "audit_events_chain"},
		{"ListAudit", listAuditSQL, []any{small, int64(math.MaxInt64), 50}, "audit_events_chain"},
		{"AuditSince, big account", auditSinceSQL, []any{"acc_0", int64(0), 1000}, "audit_events_chain"},
		{"AuditSince, big account, middle", auditSinceSQL, []any{"acc_0", auditMid, 1000}, "audit_events_chain"},
		{"AuditSince", auditSinceSQL, []any{small, int64(0), 1000}, "audit_events_chain"},
		{"WalkAudit", walkAuditFirstSQL, []any{1000}, "audit_events_chain"},
		{"WalkAudit, next batch", walkAuditSQL, []any{"acc_0", auditMid, 1000}, "audit_events_chain"},
		{"AuditHead", `SELECT seq, hash, at FROM audit_heads WHERE account_id = $1`, []any{small}, "audit_heads_pkey"},
		{"Lock audit heads", lockHeadsSQL, []any{[]string{small, "acc_0"}}, "audit_heads_pkey"},
		{"RotateTokens", `UPDATE refresh_tokens SET rotated_at = $2 WHERE session_id = $1 AND rotated_at IS NULL`,
			[]any{sessionID("acc_0", 7), base}, "refresh_tokens_live"},
		{"DeleteRememberedForDevice", `DELETE FROM remembered_logins WHERE account_id = $1 AND device_id = $2`,
			[]any{small, "dev"}, "remembered_logins_account_device"},
		// Either index bounds the rows the sweep reads: the account's
		// tokens, or every expired one (few, once Purge runs).
		{"SweepMFATokens", `DELETE FROM mfa_tokens WHERE account_id = $1 AND expires_at <= $2 AND hash <> $3`,
			[]any{small, base, []byte{1}}, "mfa_tokens_account|mfa_tokens_expires"},
		{"UseRecoveryCode", `DELETE FROM recovery_codes WHERE account_id = $1 AND hash = $2`,
			[]any{small, []byte{1}}, "recovery_codes_pkey"},
		{"MFAToken", `SELECT ` + columns.MFAToken + ` FROM mfa_tokens WHERE hash = $1 AND expires_at > $2`,
			[]any{[]byte{1}, base}, "mfa_tokens_pkey"},
		{"RefreshToken", `SELECT ` + columns.Refresh + ` FROM refresh_tokens WHERE hash = $1`,
			[]any{[]byte{1}}, "refresh_tokens_pkey"},
		{"KnownInstall", `SELECT EXISTS (SELECT FROM known_installs WHERE account_id = $1 AND install_hash = $2)`,
			[]any{small, []byte{1}}, "known_installs_pkey"},
		{"ReadOutbox", `SELECT ` + columns.Outbox + ` FROM outbox WHERE seq > $1 ORDER BY seq LIMIT $2`,
			[]any{int64(8000), 100}, "outbox_pkey"},
		{"ListEndedSessions", listEndedSQL, []any{small, cutoff, 50}, "sessions_ended_by_account"},
		{"ListEndedSessions, big account", listEndedSQL, []any{"acc_0", cutoff, 50}, "sessions_ended_by_account"},
		{"ListEndedSessions, big account, next page", listEndedAfterSQL,
			[]any{"acc_0", cutoff, base, sessionID("acc_0", 11000), 50}, "sessions_ended_by_account"},
		{"ConfirmClosure's token", `SELECT session_id FROM closure_tokens WHERE hash = $1`, []any{[]byte{1}}, "closure_tokens_pkey"},
		{"ConfirmClosure's spent tokens", `DELETE FROM closure_tokens WHERE session_id = $1 RETURNING hash`,
			[]any{sessionID("acc_0", 11000)}, "closure_tokens_session"},
		{"IssueClosureToken's trim", `DELETE FROM closure_tokens WHERE session_id = $1 AND seq NOT IN (
			SELECT seq FROM closure_tokens WHERE session_id = $1 ORDER BY seq DESC LIMIT $2)`,
			[]any{sessionID("acc_0", 11000), 8}, "closure_tokens_session"},
		// The inactivity sweeper reads the due sessions alone (here: none
		// has a rule), one session by its key, one account through its
		// live sessions or the due ones.
		{"EndIdleSessions", endIdleAllSQL, []any{base, "inactive", "", "", false, nil, false, 100}, "sessions_idle_due"},
		{"EndIdleSessions of a session", endIdleSessionSQL,
			[]any{base, "inactive", "", "", false, nil, false, 1, sessionID("acc_0", 7), "acc_0"}, "sessions_pkey|sessions_idle_due"},
		{"EndIdleSessions of an account", endIdleAccountSQL,
			[]any{base, "inactive", "", "", false, nil, false, 100, small}, "sessions_idle_due|sessions_live_by_account"},
		{"SetSettings' copy", copyAccountRuleSQL, []any{3600, small}, "sessions_live_by_account"},
		// Purge: each batch is a range of an index on the time it
		// compares, at a cutoff 90 days back.
		{"Purge ended sessions' tokens", purgeEndedTokensSQL, []any{cutoff, 1000}, "sessions_ended"},
		{"Purge ended sessions' tokens, by session", purgeEndedTokensSQL, []any{cutoff, 1000}, "refresh_tokens_session"},
		{"Purge ended sessions", purgeEndedSessionsSQL, []any{cutoff, 1000}, "sessions_ended"},
		{"Purge rotated tokens", purgeRotatedSQL, []any{cutoff, 1000}, "refresh_tokens_rotated"},
		{"Purge remembered logins", purgeRememberedSQL, []any{base, 1000}, "remembered_logins_expires"},
		{"Purge MFA tokens", purgeMFATokensSQL, []any{base, 1000}, "mfa_tokens_expires"},
		{"Purge known installs", purgeInstallsSQL, []any{cutoff, 1000}, "known_installs_last_used"},
		{"Purge outbox", purgeOutboxSQL, []any{cutoff, 1000}, "outbox_at"},
	}
	// RevokeOtherSessions locks the sessions it ends in ID order, which
	// takes a sort of the account's live sessions.
	// So does a small account's audit log, whose few events the planner
	// may rather sort than walk in order.
	// So does SetSettings' copy of the account's rule.
	// So may AuditSince, on the range the index bounds (as the planner
	// estimates what is left past the cursor), and
	// the lock of audit heads, which takes them in account order.
	// So may a search the planner expects few sessions to match: it
	// reads the account's live sessions through the index in table order
	// (a bitmap scan) and sorts the few that match, which bounds it by the
	// account's sessions as the ordered scan does.
	sorts := map[string]bool{"RevokeOtherSessions": true, "ListAudit": true, "SetSettings' copy": true,
		"EndIdleSessions of an account": true, "AuditSince": true, "AuditSince, big account, middle": true,
		"Lock audit heads": true, "SearchSessions, big account, no match": true}
	for _, tc := range cases {
		var plan []string
		err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, `SET LOCAL enable_seqscan = off`); err != nil {
				return err
			}
			rows, err := tx.Query(ctx, "EXPLAIN "+tc.query, tc.args...)
			if err != nil {
				return err
			}
			plan, err = pgx.CollectRows(rows, pgx.RowTo[string])
			return err
		})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		p := strings.Join(plan, "\n")
		if !slices.ContainsFunc(strings.Split(tc.index, "|"), func(i string) bool { return strings.Contains(p, " "+i+" ") }) || (strings.Contains(p, "Sort") && !sorts[tc.name]) || strings.Contains(p, "Seq Scan") {
			t.Errorf("%s: want a scan of %s and no sort:\n%s", tc.name, tc.index, p)
		}
		// The keyset cursor must bound the index scan, not filter it.
		if strings.Contains(tc.name, "after") && !strings.Contains(p, "Index Cond: ((account_id = ") {
			t.Errorf("%s: the cursor is not part of the index condition:\n%s", tc.name, p)
		}
		if strings.Contains(tc.name, "after") && !strings.Contains(p, "ROW(last_seen_at, id) < ROW(") {
			t.Errorf("%s: the cursor is not part of the index condition:\n%s", tc.name, p)
		}
		if strings.Contains(tc.name, "next page") && !strings.Contains(p, "ROW(revoked_at, id) < ROW(") {
			t.Errorf("%s: the cursor is not part of the index condition:\n%s", tc.name, p)
		}
	}
}
