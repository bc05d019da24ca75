package postgres

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"sessionguard/api"
	"sessionguard/api/auditchain"
	"sessionguard/server/internal/barrier"
	"sessionguard/server/store"
	"sessionguard/server/store/postgres/pgtest"
)

// verifyAll checks every account's log in s with auditchain's Verifier,
// through WalkAudit, and its head, through WalkAuditHeads and AuditHead;
// it returns the logs by account.
func verifyAll(t *testing.T, s *Store) map[string][]api.AuditEvent {
	t.Helper()
	ctx := t.Context()
	logs := map[string][]api.AuditEvent{}
	verifiers := map[string]*auditchain.Verifier{}
	var order []string
	err := s.WalkAudit(ctx, func(accountID string, e api.AuditEvent) error {
		v := verifiers[accountID]
		if v == nil {
			v = auditchain.NewVerifier(accountID)
			verifiers[accountID] = v
			order = append(order, accountID)
		}
		logs[accountID] = append(logs[accountID], e)
		return v.Add(e)
	})
	if err != nil {
		t.Fatalf("WalkAudit: %v", err)
	}
	if !slices.IsSorted(order) {
		t.Errorf("WalkAudit: accounts in the order %q", order)
	}
	var heads []string
	err = s.WalkAuditHeads(ctx, func(h api.AuditHead) error {
		heads = append(heads, h.AccountID)
		v := verifiers[h.AccountID]
		if v == nil {
			return fmt.Errorf("a head for %s, which has no events", h.AccountID)
		}
		if err := v.CheckHead(h); err != nil {
			return err
		}
		log := logs[h.AccountID]
		if !h.At.Equal(log[len(log)-1].At) {
			return fmt.Errorf("head of %s: At %v, want its last event's %v", h.AccountID, h.At, log[len(log)-1].At)
		}
		if one, err := s.AuditHead(ctx, h.AccountID); err != nil || one != h {
			return fmt.Errorf("AuditHead(%s) = %+v, %v; WalkAuditHeads gave %+v", h.AccountID, one, err, h)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("WalkAuditHeads: %v", err)
	}
	if !slices.Equal(heads, order) {
		t.Errorf("WalkAuditHeads: heads of %q, want those of %q", heads, order)
	}
	return logs
}

// TestMigrateChainsExistingAudit brings a database at schema version 6,
// with the events of several accounts written interleaved, to this
// build's: every account's events are chained in the order they were
// written, each verifies, each head is its last event, nothing else of an
// event changed, and appends go on from there.
func TestMigrateChainsExistingAudit(t *testing.T) {
	defer func(n int) { chainBatch = n }(chainBatch)
	chainBatch = 3 // batches that end inside an account, and heads in several

	ctx := t.Context()
	url := pgtest.NewDatabase(t)
	old, err := open(ctx, url, Options{})
	if err != nil {
		t.Fatal(err)
	}
	const before = 6
	conn, err := old.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, createMigrationsTable); err != nil {
		t.Fatal(err)
	}
	for _, m := range schema.Files()[:before] {
		if err := old.apply(ctx, conn.Conn(), m); err != nil {
			t.Fatal(err)
		}
	}
	conn.Release()
	if v, err := old.Version(ctx); err != nil || v != before {
		t.Fatalf("Version = %d, %v; want %d", v, err, before)
	}

	// Two accounts' events interleaved unevenly, three more accounts with
	// one each (one whose ID sorts first byte-wise, not in a natural
	// language's order), in zones other than UTC, with nanoseconds, and
	// text the canonical form escapes.
	zone := time.FixedZone("UTC+9", 9*3600)
	base := time.Date(2024, 3, 1, 12, 0, 0, 123456789, zone)
	accounts := []string{"acc_a", "acc_b", "acc_a", "acc_a", "acc_b", "acc_b", "acc_b", "acc_a",
		"acc_c", "acc_a", "acc_b", "Acc_Z", "acc_a", "acc_d", "acc_b"}
	want := map[string][]api.AuditEvent{}
	for i, acct := range accounts {
		e := api.AuditEvent{
			ID: fmt.Sprint("evt_", i), At: base.Add(time.Duration(i) * time.Minute), Type: api.AuditLoginSucceeded,
			IP: "198.51.100.4", Location: api.Location{City: "Ōsaka", Region: "Ōsaka", Country: "Japan", CountryCode: "JP"},
			SessionID: fmt.Sprint("ses_", i), DeviceName: fmt.Sprintf("Ana's \"phone\"\t\u0001 ☎ %d", i),
			Detail: fmt.Sprint("detail ", i),
		}
		if i%3 == 0 {
			e.TargetSessionID, e.TargetDeviceName = fmt.Sprint("ses_t", i), "Tablet"
		}
		if i == 4 {
			e.At = base.Add(-time.Hour) // out of time order: the log is in the order written
		}
		l := e.Location
		if _, err := old.pool.Exec(ctx, `INSERT INTO audit_events (account_id, id, at, type, ip,
				loc_city, loc_region, loc_country, loc_country_code,
				session_id, device_name, target_session_id, target_device_name, detail)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)`,
			acct, e.ID, e.At, e.Type, e.IP, l.City, l.Region, l.Country, l.CountryCode,
			e.SessionID, e.DeviceName, e.TargetSessionID, e.TargetDeviceName, e.Detail); err != nil {
			t.Fatal(err)
		}
		want[acct] = append(want[acct], e)
	}
	old.Close()
	for acct, log := range want {
		auditchain.Chain(0, api.GenesisHash, log)
		want[acct] = log
	}

	s := openURL(t, url)
	checkMigrated(t, s)
	got := verifyAll(t, s)
	if len(got) != len(want) {
		t.Errorf("logs of %d accounts after the migration, want %d", len(got), len(want))
	}
	for acct, log := range want {
		if !slices.Equal(got[acct], log) {
			t.Errorf("log of %s after the migration:\n%+v\nwant\n%+v", acct, got[acct], log)
		}
	}
	// The chain columns are required and the account's sequence is the key.
	var nullable int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM information_schema.columns
		WHERE table_name = 'audit_events' AND column_name IN ('account_seq', 'prev_hash', 'hash') AND is_nullable = 'YES'`).Scan(&nullable); err != nil {
		t.Fatal(err)
	}
	if nullable != 0 {
		t.Errorf("%d chain columns are nullable after the migration", nullable)
	}
	var key string
	if err := s.pool.QueryRow(ctx, `SELECT pg_get_constraintdef(oid) FROM pg_constraint
		WHERE conrelid = 'audit_events'::regclass AND contype = 'p'`).Scan(&key); err != nil {
		t.Fatal(err)
	}
	if key != "PRIMARY KEY (account_id, account_seq)" {
		t.Errorf("audit_events' key after the migration: %s", key)
	}

	// Appends go on from the migrated heads.
	e := api.AuditEvent{ID: "evt_new", At: time.Now(), Type: api.AuditLogout}
	seq, err := s.AppendAudit(ctx, "acc_a", e, e)
	if n := int64(len(want["acc_a"])); err != nil || seq != n+2 {
		t.Errorf("AppendAudit after the migration = %d, %v; want %d", seq, err, n+2)
	}
	if seq, err := s.AppendAudit(ctx, "acc_new", e); err != nil || seq != 1 {
		t.Errorf("AppendAudit to a new account after the migration = %d, %v; want 1", seq, err)
	}
	verifyAll(t, s)
}

// TestAuditChainReplicas has two Stores on one database, with retrying
// off, append to one account at once, first to its empty log: alone and
// several at a time (AppendAudit), with a sign-in (CreateSession) and with
// an inactivity sweep of several accounts (appendAuditsTx) whose accounts
// come in an order of their own. The account's log is one chain without
// a gap, holding every event, and no call failed: appends of one account
// wait for each other (no deadlock, no conflict to retry).
func TestAuditChainReplicas(t *testing.T) {
	defer func(n int) { maxAttempts = n }(maxAttempts)
	maxAttempts = 1
	url := pgtest.NewDatabase(t)
	a, b := openURL(t, url), openURL(t, url)
	ctx := t.Context()
	base := time.Now()
	const acct = "acc_1"
	if err := a.CreateAccount(ctx, store.Account{ID: acct, Username: "ana", PasswordHash: "x", CreatedAt: base}); err != nil {
		t.Fatal(err)
	}
	event := func(w, i, k int) api.AuditEvent {
		return api.AuditEvent{ID: fmt.Sprintf("evt_%d_%d_%d", w, i, k), At: base.Add(time.Duration(i) * time.Millisecond),
			Type: api.AuditLoginSucceeded, Detail: fmt.Sprint("writer ", w)}
	}
	const writers, rounds = 8, 25
	var (
		mu     sync.Mutex
		wrote  = map[string][]string{} // event IDs by account
		errs   [writers]error
		others = []string{"acc_0", "acc_2", "acc_9"}
	)
	barrier.Run(writers, func(w int) {
		s := []*Store{a, b}[w%2]
		for i := range rounds {
			var (
				err      error
				accounts []string
				events   []api.AuditEvent
			)
			switch (w + i) % 4 {
			case 0:
				events = []api.AuditEvent{event(w, i, 0)}
				_, err = s.AppendAudit(ctx, acct, events...)
			case 1:
				events = []api.AuditEvent{event(w, i, 0), event(w, i, 1), event(w, i, 2)}
				_, err = s.AppendAudit(ctx, acct, events...)
			case 2:
				id := fmt.Sprintf("ses_%d_%d", w, i)
				events = []api.AuditEvent{event(w, i, 0), event(w, i, 1)}
				err = s.CreateSession(ctx, store.Session{ID: id, AccountID: acct, CreatedAt: base, LastSeenAt: base, AuthTime: base,
					ExpiresAt: base.Add(time.Hour), AbsoluteExpiresAt: base.Add(time.Hour), AccessHash: accessHash(id), AccessExpiresAt: base},
					store.RefreshToken{Hash: accessHash("rt " + id), IssuedAt: base, ExpiresAt: base.Add(time.Hour)}, events...)
			case 3:
				// The sweep's shape: several accounts, in no particular
				// order, some more than once.
				o := others[(w+i)%len(others)]
				accounts = []string{o, acct, others[(w+i+1)%len(others)], acct, o}
				for k := range accounts {
					events = append(events, event(w, i, k))
				}
				err = s.tx(ctx, "sweep", func(ctx context.Context, tx pgx.Tx) error {
					return appendAuditsTx(ctx, tx, accounts, events)
				})
			}
			if err != nil {
				errs[w] = fmt.Errorf("round %d: %w", i, err)
				return
			}
			mu.Lock()
			for k, e := range events {
				to := acct
				if accounts != nil {
					to = accounts[k]
				}
				wrote[to] = append(wrote[to], e.ID)
			}
			mu.Unlock()
		}
	})
	for w, err := range errs {
		if err != nil {
			t.Errorf("writer %d: %v", w, err)
		}
	}
	logs := verifyAll(t, a)
	for account, ids := range wrote {
		var got []string
		for _, e := range logs[account] {
			got = append(got, e.ID)
		}
		slices.Sort(ids)
		slices.Sort(got)
		if !slices.Equal(got, ids) {
			t.Errorf("log of %s: %d events, want the %d written, each once", account, len(got), len(ids))
		}
	}
	// The account's events of one call are consecutive in its log, in
	// the order given: nothing came between them.
	log := logs[acct]
	where := map[string][]int{} // positions by call
	for i, e := range log {
		call := e.ID[:strings.LastIndexByte(e.ID, '_')]
		where[call] = append(where[call], i)
	}
	for call, pos := range where {
		for k := 1; k < len(pos); k++ {
			if pos[k] != pos[k-1]+1 || log[pos[k]].ID < log[pos[k-1]].ID {
				t.Errorf("the events of call %s are at %v of the log, want together and in order", call, pos)
				break
			}
		}
	}
	if head, err := b.AuditHead(ctx, acct); err != nil || head.Seq != int64(len(log)) {
		t.Errorf("AuditHead = %+v, %v; want Seq %d", head, err, len(log))
	}
}

// TestAuditHeadsLockedInOrder: sweeps of the same accounts named in
// opposite orders, at once, with retrying off, all succeed (they lock the
// heads in account order), and every log verifies.
func TestAuditHeadsLockedInOrder(t *testing.T) {
	defer func(n int) { maxAttempts = n }(maxAttempts)
	maxAttempts = 1
	url := pgtest.NewDatabase(t)
	a, b := openURL(t, url), openURL(t, url)
	ctx := t.Context()
	accounts := []string{"acc_a", "acc_b", "acc_c", "acc_d", "Acc_E"}
	const racers, rounds = 8, 20
	var errs [racers]error
	barrier.Run(racers, func(r int) {
		s := []*Store{a, b}[r%2]
		order := slices.Clone(accounts)
		if r%2 == 1 {
			slices.Reverse(order)
		}
		for i := range rounds {
			events := make([]api.AuditEvent, len(order))
			for k := range events {
				events[k] = api.AuditEvent{ID: fmt.Sprint("evt_", r, "_", i, "_", k), At: time.Now(), Type: api.AuditSessionRevoked}
			}
			if err := s.tx(ctx, "sweep", func(ctx context.Context, tx pgx.Tx) error {
				return appendAuditsTx(ctx, tx, order, events)
			}); err != nil {
				errs[r] = err
				return
			}
		}
	})
	if err := errors.Join(errs[:]...); err != nil {
		t.Fatal(err)
	}
	logs := verifyAll(t, a)
	for _, acct := range accounts {
		if n := len(logs[acct]); n != racers*rounds {
			t.Errorf("log of %s: %d events, want %d", acct, n, racers*rounds)
		}
	}
	keys := make([]string, 0, len(logs))
	for k := range logs {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, cmp.Compare[string])
	if want := slices.Sorted(slices.Values(accounts)); !slices.Equal(keys, want) {
		t.Errorf("logs of %q, want %q", keys, want)
	}
}

// TestWalkAuditInBatches walks logs longer than a batch, ending inside an
// account and at its end, and stops where fn says.
func TestWalkAuditInBatches(t *testing.T) {
	defer func(n int) { walkBatch = n }(walkBatch)
	walkBatch = 2
	s := openTemp(t)
	ctx := t.Context()
	counts := map[string]int{"acc_a": 3, "acc_b": 1, "acc_c": 2, "acc_d": 5}
	for acct, n := range counts {
		events := make([]api.AuditEvent, n)
		for i := range events {
			events[i] = api.AuditEvent{ID: fmt.Sprint(acct, i), At: time.Now(), Type: api.AuditLogout}
		}
		if _, err := s.AppendAudit(ctx, acct, events...); err != nil {
			t.Fatal(err)
		}
	}
	logs := verifyAll(t, s)
	for acct, n := range counts {
		if len(logs[acct]) != n {
			t.Errorf("walked %d events of %s, want %d", len(logs[acct]), acct, n)
		}
	}
	stop := errors.New("stop")
	calls := 0
	if err := s.WalkAudit(ctx, func(string, api.AuditEvent) error {
		if calls++; calls == 4 {
			return stop
		}
		return nil
	}); !errors.Is(err, stop) || calls != 4 {
		t.Errorf("WalkAudit stopped at call 4: %v after %d calls", err, calls)
	}
	calls = 0
	if err := s.WalkAuditHeads(ctx, func(api.AuditHead) error {
		if calls++; calls == 3 {
			return stop
		}
		return nil
	}); !errors.Is(err, stop) || calls != 3 {
		t.Errorf("WalkAuditHeads stopped at call 3: %v after %d calls", err, calls)
	}
}

// TestEveryGoStepHasItsMigration: a Go step belongs to a migration this
// build carries.
func TestEveryGoStepHasItsMigration(t *testing.T) {
	for v := range goSteps {
		if v < 1 || v > LatestVersion() {
			t.Errorf("a Go step for version %d, which has no migration file", v)
		}
	}
}
