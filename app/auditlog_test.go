package app_test

import (
	"bytes"
	"context"
	"database/sql"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"sessionguard/api"
	"sessionguard/api/auditchain"
	"sessionguard/app"
)

// TestLogCheckCatchesARewrite: the app verifies the security log on every
// view against the head it kept from the one before; when the server's
// database is edited between two views (an event changed and every hash
// after it recomputed, or the newest events cut off), the next view says
// the log was rewritten, and the head it had kept stays as evidence, also
// across a restart of the app.
func TestLogCheckCatchesARewrite(t *testing.T) {
	cases := []struct {
		name    string
		rewrite func(t *testing.T, db *sql.DB, acct string)
		problem string
	}{
		{"an event edited", func(t *testing.T, db *sql.DB, acct string) {
			exec(t, db, `UPDATE audit_events SET ip = '192.0.2.66' WHERE account_id = ? AND account_seq = (SELECT seq FROM audit_heads WHERE account_id = ?)`, acct, acct)
		}, "changed after it was written"},
		{"an event edited and every hash after it made again", func(t *testing.T, db *sql.DB, acct string) {
			// A forger with the database but not the key: the log agrees
			// with itself, and the server signs its new head.
			rows, err := db.Query(`SELECT account_seq, id, at, type, ip, loc_city, loc_region, loc_country, loc_country_code,
				session_id, device_name, target_session_id, target_device_name, detail FROM audit_events
				WHERE account_id = ? ORDER BY account_seq`, acct)
			if err != nil {
				t.Fatal(err)
			}
			var log []api.AuditEvent
			for rows.Next() {
				var e api.AuditEvent
				var at int64
				if err := rows.Scan(&e.Seq, &e.ID, &at, &e.Type, &e.IP, &e.Location.City, &e.Location.Region, &e.Location.Country,
					&e.Location.CountryCode, &e.SessionID, &e.DeviceName, &e.TargetSessionID, &e.TargetDeviceName, &e.Detail); err != nil {
					t.Fatal(err)
				}
				e.At = time.UnixMicro(at).UTC()
				log = append(log, e)
			}
			rows.Close()
			log[1].IP = "192.0.2.66"
			auditchain.Chain(0, api.GenesisHash, log)
			for _, e := range log {
				exec(t, db, `UPDATE audit_events SET ip = ?, prev_hash = ?, hash = ? WHERE account_id = ? AND account_seq = ?`,
					e.IP, e.PrevHash, e.Hash, acct, e.Seq)
			}
			exec(t, db, `UPDATE audit_heads SET hash = ? WHERE account_id = ?`, log[len(log)-1].Hash, acct)
		}, "is not the one you saw before"},
		{"the newest events cut off", func(t *testing.T, db *sql.DB, acct string) {
			exec(t, db, `DELETE FROM audit_events WHERE account_id = ? AND account_seq > 1`, acct)
			exec(t, db, `UPDATE audit_heads SET seq = 1, hash = (SELECT hash FROM audit_events WHERE account_id = ? AND account_seq = 1) WHERE account_id = ?`, acct, acct)
		}, "is no longer in it"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackend(t)
			laptop := b.device("Laptop")
			laptop.signUp("ana", true)
			phone := b.device("Phone")
			phone.signIn("ana", false)

			ctx := context.Background()
			if err := laptop.app.LoadActivity(ctx); err != nil {
				t.Fatal(err)
			}
			first := laptop.snap().LogCheck
			if first.State != app.LogVerified || first.Events < 2 {
				t.Fatalf("first view: %+v, want verified", first)
			}
			// More happens; the next view verifies from the kept head on.
			phone.app.LogOut(ctx, false)
			if err := laptop.app.LoadActivity(ctx); err != nil {
				t.Fatal(err)
			}
			second := laptop.waitFor("the log checked again", func(s app.Snapshot) bool {
				return s.LogCheck.State == app.LogVerified && s.LogCheck.Events > first.Events
			}).LogCheck

			db, err := sql.Open("sqlite", b.DBPath)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			tc.rewrite(t, db, laptop.snap().Account.ID)

			for _, when := range []string{"after the rewrite", "after a restart"} {
				if err := laptop.app.LoadActivity(ctx); err != nil {
					t.Fatal(err)
				}
				got := laptop.snap().LogCheck
				if got.State != app.LogRewritten || !strings.Contains(got.Problem, tc.problem) {
					t.Fatalf("%s: %+v, want rewritten: %q", when, got, tc.problem)
				}
				if got.Evidence == nil || got.Evidence.Head.Seq != second.Events || got.SeenAt.IsZero() {
					t.Fatalf("%s: evidence %+v, want the head of event %d", when, got.Evidence, second.Events)
				}
				laptop.close()
				laptop.open()
				laptop.waitFor("signed in again", func(s app.Snapshot) bool { return s.State == app.StateSignedIn })
			}
			// An export now says it does not verify.
			var out bytes.Buffer
			res, err := laptop.app.ExportActivity(ctx, &out)
			if err != nil || res.Problem == "" {
				t.Errorf("export after the rewrite: %+v, %v; want a problem", res, err)
			}
		})
	}
}

// TestExportActivity: the export holds every event and the signed head,
// and verifies.
func TestExportActivity(t *testing.T) {
	b := newBackend(t)
	laptop := b.device("Laptop")
	laptop.signUp("ana", true)
	for range 3 {
		p := b.device("Phone")
		p.signIn("ana", false)
		p.app.LogOut(context.Background(), false)
	}
	var out bytes.Buffer
	res, err := laptop.app.ExportActivity(context.Background(), &out)
	if err != nil || res.Problem != "" {
		t.Fatalf("export: %+v, %v", res, err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if int64(len(lines)) != res.Events+1 || res.Events < 7 || res.Head.Seq != res.Events {
		t.Errorf("export: %d lines for %d events, head %d", len(lines), res.Events, res.Head.Seq)
	}
	if s := laptop.snap().LogCheck; s.State != app.LogVerified || s.Events != res.Events {
		t.Errorf("after the export the log check is %+v, want verified at %d", s, res.Events)
	}
}

func exec(t *testing.T, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatal(err)
	}
}

func TestThousands(t *testing.T) {
	for n, want := range map[int64]string{0: "0", 7: "7", 999: "999", 1000: "1,000", 1204: "1,204", 1000000: "1,000,000", -12345: "-12,345"} {
		if got := app.Thousands(n); got != want {
			t.Errorf("Thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
