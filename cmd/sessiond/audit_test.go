package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"sessionguard/api"
	"sessionguard/server"
)

// TestAuditVerify: `sessiond audit verify` passes an intact database, and
// after an event is edited in the file exits 1 naming the account and the
// event; an export saved from the server verifies with the server's key,
// and not once a byte of it is changed.
func TestAuditVerify(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "s.db")
	st, err := openStore(ctx, db, "")
	if err != nil {
		t.Fatal(err)
	}
	seed := bytes.Repeat([]byte{7}, ed25519.SeedSize)
	srv := server.New(st, server.Config{AuditKey: seed, OpenRegistration: true})
	hs := httptest.NewServer(srv.Handler())
	post := func(path string, body any) *http.Response {
		b, _ := json.Marshal(body)
		resp, err := http.Post(hs.URL+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}
	post("/v1/accounts", api.CreateAccountRequest{Username: "ana", Password: "violet-harbor-lantern"}).Body.Close()
	var login api.Login
	for _, d := range []string{"Laptop", "Phone", "Tablet"} {
		resp := post("/v1/login", api.LoginRequest{Username: "ana", Password: "violet-harbor-lantern", Device: api.Device{ID: "dev-" + strings.ToLower(d), Name: d, Platform: api.PlatformLinux, OS: "Debian 12", Model: "Test", AppVersion: "1.0.0"}})
		b, _ := io.ReadAll(resp.Body)
		if err := json.Unmarshal(b, &login); err != nil || login.AccessToken == "" {
			t.Fatalf("login: %d %s", resp.StatusCode, b)
		}
		resp.Body.Close()
	}
	req, _ := http.NewRequest("GET", hs.URL+"/v1/audit/export", nil)
	req.Header.Set("Authorization", "Bearer "+login.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	export, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	hs.Close()
	srv.Close()
	st.Close()

	file := filepath.Join(dir, "log.ndjson")
	if err := os.WriteFile(file, export, 0o600); err != nil {
		t.Fatal(err)
	}
	key := base64.StdEncoding.EncodeToString(ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey))
	if code, out, errOut := runCmd(t, "", "audit", "verify", "--export", file, "--server-key", key); code != 0 || !strings.Contains(out, "3 events of account") {
		t.Fatalf("verify the export: exit %d\n%s%s", code, out, errOut)
	}
	edited := bytes.Replace(export, []byte(`"Tablet"`), []byte(`"Tablex"`), 1)
	if err := os.WriteFile(file, edited, 0o600); err != nil {
		t.Fatal(err)
	}
	if code, _, errOut := runCmd(t, "", "audit", "verify", "--export", file, "--server-key", key); code != 1 || !strings.Contains(errOut, "event 3: changed after it was written") {
		t.Fatalf("verify an edited export: exit %d, want 1\n%s", code, errOut)
	}

	if code, out, errOut := runCmd(t, "", "audit", "verify", "--db", db); code != 0 || !strings.Contains(out, "3 events of 1 account verified") {
		t.Fatalf("audit verify: exit %d\n%s%s", code, out, errOut)
	}
	raw, err := sql.Open("sqlite", db)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.Exec(`UPDATE audit_events SET ip = '192.0.2.66' WHERE account_seq = 2`); err != nil {
		t.Fatal(err)
	}
	code, _, errOut := runCmd(t, "", "audit", "verify", "--db", db)
	if code != 1 || !regexp.MustCompile(`account ana \(acc_[^)]+\) is broken at event 2: changed after it was written`).MatchString(errOut) {
		t.Fatalf("audit verify after an edit: exit %d, want 1 naming ana and event 2\n%s", code, errOut)
	}
}
