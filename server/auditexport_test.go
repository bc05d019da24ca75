package server_test

import (
	"bytes"
	"crypto/ed25519"
	"database/sql"
	"errors"
	"strings"
	"testing"

	"sessionguard/api"
	"sessionguard/api/auditchain"
	"sessionguard/server"
)

// serverKey fetches and decodes GET /v1/server-key (no token needed).
func (e *env) serverKey() []byte {
	e.t.Helper()
	var k api.ServerKey
	e.do("GET", "/v1/server-key", "", nil).wantOK(e.t, 200, &k)
	key, err := auditchain.ParseServerKey(k)
	if err != nil {
		e.t.Fatal(err)
	}
	return key
}

// export fetches GET /v1/audit/export with query and checks its headers.
func (e *env) export(token, query string) []byte {
	e.t.Helper()
	r := e.do("GET", "/v1/audit/export"+query, token, nil)
	r.wantOK(e.t, 200, nil)
	if ct := r.header.Get("Content-Type"); ct != api.NDJSONType {
		e.t.Errorf("export Content-Type %q, want %q", ct, api.NDJSONType)
	}
	if cc := r.header.Get("Cache-Control"); cc != "no-store" {
		e.t.Errorf("export Cache-Control %q, want no-store", cc)
	}
	return r.body
}

// TestAuditExport: the export holds every event GET /v1/audit lists, in
// order, chained, with a head signed by the key GET /v1/server-key gives;
// from after_seq it starts there; it is the caller's account only.
func TestAuditExport(t *testing.T) {
	e := newEnvSignedUp(t, "ana", "bob")
	ana := e.login("ana", "Laptop", false)
	for _, d := range []string{"Pixel 8", "Tablet"} {
		l := e.login("ana", d, false)
		e.do("DELETE", "/v1/sessions/"+l.Session.ID, ana.AccessToken, nil)
	}
	e.login("bob", "Phone", false)
	key := e.serverKey()

	var page api.AuditPage
	e.do("GET", "/v1/audit?limit=200", ana.AccessToken, nil).wantOK(t, 200, &page)
	body := e.export(ana.AccessToken, "")
	res, err := auditchain.ReadExport(bytes.NewReader(body), key, auditchain.ReadOptions{AccountID: ana.Account.ID})
	if err != nil {
		t.Fatalf("the export does not verify: %v\n%s", err, body)
	}
	if res.Events != int64(len(page.Events)) || res.Head.Head.Seq != page.Events[0].Seq || res.Head.Head.Hash != page.Events[0].Hash {
		t.Errorf("export: %d events, head %d %.8s; the list has %d, newest %d %.8s",
			res.Events, res.Head.Head.Seq, res.Head.Head.Hash, len(page.Events), page.Events[0].Seq, page.Events[0].Hash)
	}
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	if len(lines) != len(page.Events)+1 {
		t.Errorf("export has %d lines, want %d events and the head", len(lines), len(page.Events))
	}
	if !res.Head.Head.At.Equal(e.clock.Now()) {
		t.Errorf("head signed at %v, want now (%v)", res.Head.Head.At, e.clock.Now())
	}

	// From a known event on: what the app asks for on every view.
	known := api.AuditHead{AccountID: ana.Account.ID, Seq: page.Events[2].Seq, Hash: page.Events[2].Hash}
	part, err := auditchain.ReadExport(bytes.NewReader(e.export(ana.AccessToken, "?after_seq=2")), key, auditchain.ReadOptions{AccountID: ana.Account.ID, From: &known})
	if err != nil || part.Events != 3 {
		t.Errorf("export after_seq=2 from event 3: %d events, %v; want 3, nil", part.Events, err)
	}
	// Past the end: the signed head alone.
	end := e.export(ana.AccessToken, "?after_seq=99")
	if n := bytes.Count(end, []byte("\n")); n != 1 {
		t.Errorf("export past the end: %d lines, want the head alone:\n%s", n, end)
	}

	// Another key does not verify it, and nor does another account.
	other, _, _ := ed25519.GenerateKey(nil)
	if _, err := auditchain.ReadExport(bytes.NewReader(body), other, auditchain.ReadOptions{AccountID: ana.Account.ID}); !errors.Is(err, auditchain.ErrBadSignature) {
		t.Errorf("export checked with another server's key: %v, want ErrBadSignature", err)
	}
	if _, err := auditchain.ReadExport(bytes.NewReader(body), key, auditchain.ReadOptions{AccountID: "acc_someone_else"}); err == nil {
		t.Error("ana's export verified as another account's")
	}

	for _, tc := range []struct{ query, token string }{{"?after_seq=-1", ana.AccessToken}, {"?after_seq=x", ana.AccessToken}} {
		e.do("GET", "/v1/audit/export"+tc.query, tc.token, nil).wantError(t, 400, api.CodeInvalidRequest)
	}
	e.do("GET", "/v1/audit/export", "", nil).wantError(t, 401, api.CodeInvalidToken)
}

// TestAuditTamperingCaught: rows changed in the database afterwards (an
// event's text edited, an event deleted from the middle or the end, two
// events swapped) are caught by VerifyAudit, naming the account and the
// first event that no longer proves itself, and by a reader holding the
// head it saw before.
func TestAuditTamperingCaught(t *testing.T) {
	cases := []struct {
		name    string
		tamper  string // SQL; ?1 is the account
		wantSeq int64  // where VerifyAudit finds the break (0: none)
		// touchesKept: event 5, the head a reader kept, is changed.
		touchesKept bool
	}{
		{"an edited event", `UPDATE audit_events SET detail = 'nothing to see' WHERE account_id = ?1 AND account_seq = 3`, 3, false},
		{"an edited time", `UPDATE audit_events SET at = at + 1 WHERE account_id = ?1 AND account_seq = 2`, 2, false},
		{"a deleted event", `DELETE FROM audit_events WHERE account_id = ?1 AND account_seq = 2`, 2, false},
		{"the last event deleted", `DELETE FROM audit_events WHERE account_id = ?1 AND account_seq = 5`, 5, true},
		// With the recorded head moved back too, the database agrees with
		// itself: only a head kept from before (the app's, an export's)
		// shows that event 5 is gone.
		{"the last event deleted and the head moved back", `DELETE FROM audit_events WHERE account_id = ?1 AND account_seq = 5;
			UPDATE audit_heads SET seq = 4, hash = (SELECT hash FROM audit_events WHERE account_id = ?1 AND account_seq = 4) WHERE account_id = ?1`, 0, true},
		{"two events swapped", `UPDATE audit_events SET account_seq = -1 WHERE account_id = ?1 AND account_seq = 3;
			UPDATE audit_events SET account_seq = 3 WHERE account_id = ?1 AND account_seq = 4;
			UPDATE audit_events SET account_seq = 4 WHERE account_id = ?1 AND account_seq = -1`, 3, false},
		{"rewritten with new hashes", `UPDATE audit_events SET detail = 'edited', hash = '` + strings.Repeat("ab", 32) + `'
			WHERE account_id = ?1 AND account_seq = 5`, 5, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnvSignedUp(t, "ana", "bob")
			ana := e.login("ana", "Laptop", false) // event 1
			for range 4 {                          // events 2–5
				e.login("ana", "Phone", false)
			}
			e.login("bob", "Phone", false)
			key := e.serverKey()
			seen, err := auditchain.ReadExport(bytes.NewReader(e.export(ana.AccessToken, "")), key, auditchain.ReadOptions{AccountID: ana.Account.ID})
			if err != nil {
				t.Fatal(err)
			}
			if rep, err := server.VerifyAudit(t.Context(), e.store, nil); err != nil || rep.Accounts != 2 || rep.Events != 6 {
				t.Fatalf("VerifyAudit before tampering: %+v, %v", rep, err)
			}

			db, err := sql.Open("sqlite", e.dbPath)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			for _, q := range strings.Split(tc.tamper, ";") {
				if _, err := db.Exec(q, ana.Account.ID); err != nil {
					t.Fatal(err)
				}
			}

			_, err = server.VerifyAudit(t.Context(), e.store, nil)
			var br *auditchain.BreakError
			switch {
			case tc.wantSeq == 0 && err != nil:
				t.Fatalf("VerifyAudit: %v; want none (the database agrees with itself)", err)
			case tc.wantSeq > 0 && (!errors.As(err, &br) || br.AccountID != ana.Account.ID || br.Seq != tc.wantSeq):
				t.Fatalf("VerifyAudit after tampering: %v; want a break in %s at event %d", err, ana.Account.ID, tc.wantSeq)
			}
			// A full export shows every change that left the database
			// disagreeing with itself; the reader who kept the head of the
			// earlier export (as the app does) also sees event 5, the one
			// it kept, gone or changed.
			_, err = auditchain.ReadExport(bytes.NewReader(e.export(ana.AccessToken, "")), key, auditchain.ReadOptions{AccountID: ana.Account.ID})
			if tc.wantSeq > 0 && err == nil {
				t.Error("a full export verified after tampering")
			}
			known := seen.Head.Head
			_, err = auditchain.ReadExport(bytes.NewReader(e.export(ana.AccessToken, "?after_seq=4")), key, auditchain.ReadOptions{AccountID: ana.Account.ID, From: &known})
			var rw *auditchain.RewrittenError
			switch {
			case !tc.touchesKept && err != nil:
				t.Errorf("reading on from the kept head: %v; event 5 was not touched", err)
			case tc.touchesKept && err == nil:
				t.Error("reading on from the kept head verified after event 5 was changed")
			case tc.touchesKept && tc.wantSeq != 5 && !errors.As(err, &rw):
				t.Errorf("reading on from the kept head: %v, want a RewrittenError", err)
			}
		})
	}
}
