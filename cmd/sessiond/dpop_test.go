package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/api/dpop"
	"sessionguard/server"
)

// TestServeRequireBound runs `sessiond serve --require-bound
// --dpop-replay-cache 3` and checks over HTTP: a sign-in without a proof
// is refused 400 invalid_dpop_proof, one with a proof is bound, the
// bound token needs its key, and the fourth proof remembered does not
// fit (503): the flags reach the server.
func TestServeRequireBound(t *testing.T) {
	db := filepath.Join(t.TempDir(), "s.db")
	if code, _, errOut := runCmd(t, "", "demo", "--db", db); code != 0 {
		t.Fatal(errOut)
	}
	base, logs := serveLogged(t, "--db", db, "--require-bound", "--dpop-replay-cache", "3")
	if !strings.Contains(logs[len(logs)-1], `"require_bound":true`) {
		t.Fatalf("listening line without require_bound: %s", logs[len(logs)-1])
	}
	k, err := dpop.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	send := func(method, path, token, proof, body string) (int, api.ErrorBody, []byte) {
		t.Helper()
		var rd io.Reader
		if body != "" {
			rd = strings.NewReader(body)
		}
		req, _ := http.NewRequest(method, base+path, rd)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "DPoP "+token)
		}
		if proof != "" {
			req.Header.Set("DPoP", proof)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		var e api.ErrorBody
		_ = json.Unmarshal(b, &e)
		return resp.StatusCode, e, b
	}
	proof := func(method, path, token string) string {
		p, err := k.Proof(method, base+path, token, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	login := fmt.Sprintf(`{"username":%q,"password":%q,"device":{"id":"d1","name":"CLI test"}}`, server.DemoUsername, server.DemoPassword)

	if code, e, _ := send("POST", "/v1/login", "", "", login); code != 400 || e.Error.Code != api.CodeInvalidDPoPProof {
		t.Fatalf("sign-in without a proof: %d %+v", code, e)
	}
	code, _, b := send("POST", "/v1/login", "", proof("POST", "/v1/login", ""), login)
	var l api.Login
	if err := json.Unmarshal(b, &l); err != nil || code != 200 || l.Session == nil || !l.Session.Bound {
		t.Fatalf("sign-in with a proof: %d %s", code, b)
	}
	if code, e, _ := send("GET", "/v1/me", l.AccessToken, "", ""); code != 401 || e.Error.Details[api.DetailReason] != api.ReasonDPoP {
		t.Fatalf("bound token without a proof: %d %+v", code, e)
	}
	for range 3 { // proofs 1 to 3 (a sign-in's proof is not remembered)
		if code, _, b := send("GET", "/v1/me", l.AccessToken, proof("GET", "/v1/me", l.AccessToken), ""); code != 200 {
			t.Fatalf("bound token with a proof: %d %s", code, b)
		}
	}
	if code, e, _ := send("GET", "/v1/me", l.AccessToken, proof("GET", "/v1/me", l.AccessToken), ""); code != 503 || e.Error.Code != api.CodeUnavailable {
		t.Fatalf("a fourth proof with --dpop-replay-cache 3: %d %+v", code, e)
	}
}
