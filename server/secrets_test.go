package server_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"sessionguard/api"
)

// TestSecretsOnlyAsHashes runs every kind of token through the server and
// then reads the raw database files and the logs: no token, credential or
// password may appear in clear, while their SHA-256 hashes must be there
// (so the search is looking in the right place).
func TestSecretsOnlyAsHashes(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	a := e.login("ana", "Laptop", true)
	var tok api.Tokens
	e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: a.RefreshToken}).wantOK(t, 200, &tok)
	b := e.login("ana", "Phone", false)
	cred := e.logoutRemember(b)
	e.signedIn("ana", "Tablet", installKey("tablet"), "")
	bad := e.do("POST", "/v1/login", "", loginReq("ana", "wrong-password-"+testPassword))
	bad.wantError(t, 401, api.CodeInvalidCredentials)

	secrets := map[string]string{
		"password":           testPassword,
		"access token":       a.AccessToken,
		"refresh token":      a.RefreshToken,
		"rotated access":     tok.AccessToken,
		"rotated refresh":    tok.RefreshToken,
		"remembered login":   cred,
		"failed password":    "wrong-password-" + testPassword,
		"other access token": b.AccessToken,
		"install key":        installKey("tablet"),
	}
	hashed := []string{tok.AccessToken, tok.RefreshToken, cred}
	logs := e.logs.String()
	e.stop() // flush and close the database

	var raw []byte
	files, _ := filepath.Glob(e.dbPath + "*")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		raw = append(raw, b...)
	}
	if len(raw) == 0 || !strings.Contains(logs, "POST /v1/login") {
		t.Fatalf("nothing to inspect: %d bytes of database, logs %q", len(raw), logs)
	}
	for name, s := range secrets {
		if bytes.Contains(raw, []byte(s)) {
			t.Errorf("%s stored in clear", name)
		}
		if strings.Contains(logs, s) {
			t.Errorf("%s written to the log", name)
		}
	}
	for _, s := range hashed {
		h := sha256.Sum256([]byte(s))
		if !bytes.Contains(raw, h[:]) && !bytes.Contains(raw, []byte(hex.EncodeToString(h[:]))) {
			t.Errorf("hash of %.8s… not found: the test is not looking at the stored tokens", s)
		}
	}
}

func TestTokensAre256BitOpaque(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	seen := map[string]bool{}
	for range 20 {
		l := e.login("ana", "Laptop", false)
		for _, tok := range []string{l.AccessToken, l.RefreshToken} {
			_, body, ok := strings.Cut(tok, "_")
			if !ok || len(body) != 43 { // 32 bytes, base64url without padding
				t.Fatalf("token %q is not prefix + 256 bits", tok)
			}
			if seen[tok] {
				t.Fatalf("token repeated: %q", tok)
			}
			seen[tok] = true
		}
	}
}
