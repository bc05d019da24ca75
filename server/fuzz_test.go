package server

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"sessionguard/api"
	"sessionguard/server/store"
)

// checkDecoded asserts what a decoder must always do: succeed, or fail with
// a 400 invalid_request that has a message — never panic, never another error.
func checkDecoded(t *testing.T, err error) {
	if err == nil {
		return
	}
	var ae *apiError
	if !errors.As(err, &ae) || ae.status != 400 || ae.code != api.CodeInvalidRequest || ae.msg == "" {
		t.Fatalf("decode error %v is not a 400 invalid_request with a message", err)
	}
}

func FuzzDecodeLogin(f *testing.F) {
	for _, s := range []string{
		`{"username":"ana","password":"pw","remember":true,"device":{"id":"d","name":"n"}}`,
		`{"username":1}`, `{"device":{"id":["x"]}}`, `[]`, `null`, `{`, ``, `{"a":1}{}`,
		`{"device":{"name":"\u0000"}}`, `{"device":{"name":"Pixel \u202e8"}}`,
		`{"install_key":"k8Yq3-p0_fJ2nW7xLr5tVa9cZe1uHb6mDg4sQy"}`, `{"install_key":"short"}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var req api.LoginRequest
		err := decodeBody(strings.NewReader(body), &req, false)
		checkDecoded(t, err)
		if err != nil {
			return
		}
		if err := checkCredentials(req.Username, req.Password); err == nil {
			err = checkDevice(&req.Device)
			checkDecoded(t, err)
			if err == nil && strings.IndexFunc(req.Device.Name, hiddenRune) >= 0 {
				t.Fatalf("device name %q kept a hidden character", req.Device.Name)
			}
		} else {
			checkDecoded(t, err)
		}
		err = checkInstallKey(req.InstallKey)
		checkDecoded(t, err)
		if err == nil && req.InstallKey != "" && (len(installHash(req.InstallKey)) != 32 || len(req.InstallKey) < api.InstallKeyMinLen) {
			t.Fatalf("install key %q passed the check", req.InstallKey)
		}
	})
}

func FuzzDecodeRemembered(f *testing.F) {
	for _, s := range []string{
		`{"credential":"sgm_x","device":{"id":"d"},"remember":false}`, `{"credential":5}`, `"str"`, `{"device":null}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var req api.RememberedLoginRequest
		err := decodeBody(strings.NewReader(body), &req, false)
		checkDecoded(t, err)
		if err == nil {
			checkDecoded(t, checkDevice(&req.Device))
		}
	})
}

func FuzzDecodeSmallBodies(f *testing.F) {
	for _, s := range []string{`{"remember":true}`, `{"refresh_token":"x"}`, `{"password":"p","code":"1"}`, ``, `{"remember":1}`,
		`{"current_password":"a","new_password":"b","log_out_other_devices":true}`, `{"log_out_other_devices":"yes"}`,
		`{"code":"123456"}`, `{"code":123456}`, `{"mfa_token":"sgf_x","code":"7kq2-m9xd-4hfr"}`, `{"mfa_token":null}`,
		`{"name":"Ana's Pixel 8"}`, `{"name":" x "}`, `{"name":""}`, `{"name":null}`, `{"name":["a"]}`, `{"name":"Pixel \u202e8"}`,
		`{"name":"\u00e9\u00e9\u00e9"}`, `{"idle_timeout_s":3600}`, `{"idle_timeout_s":"1h"}`, `{"idle_timeout_s":1e99}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var upd api.UpdateSessionRequest
		err := decodeBody(strings.NewReader(body), &upd, false)
		checkDecoded(t, err)
		if err == nil && upd.Name != nil {
			name, err := checkDeviceName(*upd.Name)
			checkDecoded(t, err)
			if n := utf8.RuneCountInString(name); err == nil &&
				(n == 0 || n > maxName || name != strings.TrimSpace(name) || strings.IndexFunc(name, hiddenRune) >= 0) {
				t.Fatalf("device name %q passed the check", name)
			}
		}
		checkDecoded(t, decodeBody(strings.NewReader(body), &api.LogoutRequest{}, true))
		checkDecoded(t, decodeBody(strings.NewReader(body), &api.RefreshRequest{}, false))
		checkDecoded(t, decodeBody(strings.NewReader(body), &api.ReauthRequest{}, false))
		checkDecoded(t, decodeBody(strings.NewReader(body), &api.CreateAccountRequest{}, false))
		checkDecoded(t, decodeBody(strings.NewReader(body), &api.ChangePasswordRequest{}, false))
		checkDecoded(t, decodeBody(strings.NewReader(body), &api.TOTPEnableRequest{}, false))
		checkDecoded(t, decodeBody(strings.NewReader(body), &api.MFALoginRequest{}, false))
	})
}

// FuzzSecondFactorCode feeds arbitrary typed codes to the code parsers: they
// never panic, a TOTP match needs six digits, and whatever passes as a
// recovery code has the canonical shape.
func FuzzSecondFactorCode(f *testing.F) {
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	codes, _ := newRecoveryCodes("acc_fuzz")
	for _, s := range append(codes, "123456", "123 456", " 7KQ2-M9XD-4HFR ", "iloO-0000-1111", "", "-", "１２３４５６", "12345\u0000") {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		c := compactCode(code)
		if len(code) > maxSecondFactorIn && c != "" {
			t.Fatalf("compactCode kept %d bytes of an overlong code", len(c))
		}
		if steps := totpMatches(secret, c, time.Unix(1_790_000_000, 0)); len(steps) > 0 && len(c) != 6 {
			t.Fatalf("%q matched TOTP steps %v", c, steps)
		}
		canon, ok := canonicalRecoveryCode(c)
		if !ok {
			return
		}
		if (len(canon) != recoveryCodeLen && len(canon) != legacyCodeLen) || strings.Trim(canon, recoveryAlphabet) != "" {
			t.Fatalf("canonicalRecoveryCode(%q) = %q", c, canon)
		}
		if again, ok := canonicalRecoveryCode(canon); !ok || again != canon {
			t.Fatalf("canonical form %q is not stable: %q", canon, again)
		}
		if len(recoveryHash("acc", canon)) != 32 {
			t.Fatal("recovery hash is not SHA-256 sized")
		}
	})
}

// TestRecoveryCodeFormat checks what the fuzz target cannot: fresh codes
// are distinct, shaped for people, and canonicalise to what is hashed.
func TestRecoveryCodeFormat(t *testing.T) {
	codes, hashes := newRecoveryCodes("acc_1")
	if len(codes) != recoveryCodeCount || len(hashes) != recoveryCodeCount {
		t.Fatalf("%d codes, %d hashes", len(codes), len(hashes))
	}
	seen := map[string]bool{}
	for i, c := range codes {
		if len(c) != recoveryCodeLen+5 || strings.Count(c, "-") != 5 || c[4] != '-' || c[24] != '-' || seen[c] {
			t.Fatalf("code %q is malformed or repeated", c)
		}
		seen[c] = true
		canon, ok := canonicalRecoveryCode(compactCode(strings.ToUpper(c)))
		if !ok || string(recoveryHash("acc_1", canon)) != string(hashes[i]) {
			t.Fatalf("code %q does not hash to its stored hash", c)
		}
		if string(recoveryHash("acc_2", canon)) == string(hashes[i]) {
			t.Fatal("the hash does not depend on the account")
		}
	}
	// Letters people mistake for digits read as those digits.
	if a, _ := canonicalRecoveryCode("oil0-1100-abcd"); a != "" {
		t.Fatalf("compact first: got %q", a)
	}
	if a, ok := canonicalRecoveryCode(compactCode("OIL0-1100-ABCD")); !ok || a != "01101100abcd" {
		t.Fatalf("canonicalRecoveryCode(OIL0-1100-ABCD) = %q, %v", a, ok)
	}
	// 24 symbols: 120 random bits, enough for a plain hash under ASVS 5.0
	// (112); the older 12-symbol codes are still read.
	if bits := recoveryCodeLen * 5; bits < 112 {
		t.Fatalf("recovery codes carry %d bits", bits)
	}
	for _, n := range []int{11, 13, 23, 25} {
		if _, ok := canonicalRecoveryCode(strings.Repeat("a", n)); ok {
			t.Errorf("a %d-symbol code was taken for a recovery code", n)
		}
	}
}

// FuzzSessionCursor feeds arbitrary strings to GET /v1/sessions' cursor
// decoder and, read as a query string, to its q (search) check: 400
// invalid_request (field q) or success, never a panic; a q that passes is
// trimmed, valid UTF-8 of at most api.SessionQueryMaxLen characters with
// no hidden ones.
func FuzzSessionCursor(f *testing.F) {
	f.Add(encodeSessionCursor(beforeAll))
	f.Add("bm9wZQ")
	f.Add("")
	for _, s := range []string{"q=laptop", "q=+Lisbon+", "q=100%25", "q=a%00b", "q=%E2%80%8B", "q=%FF", "q=%zz",
		"q=" + strings.Repeat("%C3%A9", api.SessionQueryMaxLen+1), "q=a&q=b", "limit=5&q=_%5C"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, v string) {
		if c, err := decodeSessionCursor(v); err != nil {
			checkDecoded(t, err)
		} else if back := encodeSessionCursor(*c); back == "" {
			t.Fatal("cursor did not round-trip")
		}
		vals, err := url.ParseQuery(v)
		if err != nil {
			return // answered by query() before q is read
		}
		q, err := sessionQuery(vals)
		if err != nil {
			checkDecoded(t, err)
			var ae *apiError
			if errors.As(err, &ae); ae.details[api.DetailField] != "q" {
				t.Fatalf("q %q refused without field q: %v", vals.Get("q"), ae.details)
			}
			return
		}
		if q != strings.TrimSpace(q) || !utf8.ValidString(q) || utf8.RuneCountInString(q) > api.SessionQueryMaxLen ||
			strings.IndexFunc(q, hiddenRune) >= 0 {
			t.Fatalf("q %q passed the check as %q", vals.Get("q"), q)
		}
		if q != strings.TrimSpace(vals.Get("q")) {
			t.Fatalf("q %q read as %q", vals.Get("q"), q)
		}
	})
}

// FuzzDecodeClosure feeds arbitrary bodies to POST /v1/closures' decoder
// and check, and arbitrary query strings to the revoke calls' erase
// parameter: 400 invalid_request or success, never a panic; what passes
// has a token of a sane length and a definite erase.
func FuzzDecodeClosure(f *testing.F) {
	for _, s := range []string{
		`{"closure_token":"sgc_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","erased":true}`, `{"closure_token":"x"}`,
		`{"closure_token":""}`, `{"closure_token":5}`, `{"erased":"yes"}`, `{"erased":1}`, `{"closure_token":null,"erased":null}`,
		`[]`, `null`, `{`, ``, `{"closure_token":"` + strings.Repeat("a", 200) + `"}`, `{"closure_token":"\u0000"}`,
		"erase=true", "erase=false", "erase=1", "erase=true&erase=false", "erase=", "erase=%zz", "scope=others&erase=TRUE",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var req api.ClosureRequest
		err := decodeBody(strings.NewReader(body), &req, false)
		checkDecoded(t, err)
		if err == nil {
			err = checkClosureToken(req.ClosureToken)
			checkDecoded(t, err)
			if err == nil && (req.ClosureToken == "" || len(req.ClosureToken) > maxClosureToken) {
				t.Fatalf("closure token of %d bytes passed the check", len(req.ClosureToken))
			}
		}
		q, err := url.ParseQuery(body)
		if err != nil {
			return // answered by query() before erase is read
		}
		erase, err := eraseParam(q)
		checkDecoded(t, err)
		if err == nil && erase != (len(q["erase"]) == 1 && q["erase"][0] == "true") {
			t.Fatalf("erase=%v from %q", erase, body)
		}
	})
}

func FuzzEndedCursor(f *testing.F) {
	f.Add(encodeEndedCursor(store.EndedCursor{RevokedAt: time.Unix(1_790_000_000, 0), ID: "ses_x"}))
	f.Add(encodeSessionCursor(beforeAll))
	f.Add("ZQ")
	f.Add("")
	f.Fuzz(func(t *testing.T, v string) {
		c, err := decodeEndedCursor(v)
		if err != nil {
			checkDecoded(t, err)
			return
		}
		if back, err := decodeEndedCursor(encodeEndedCursor(*c)); err != nil || back.ID != c.ID || !back.RevokedAt.Equal(c.RevokedAt) {
			t.Fatalf("cursor %q did not round-trip: %v %v", v, back, err)
		}
		if _, err := decodeSessionCursor(v); err == nil {
			t.Fatalf("%q reads as both an ended and a live cursor", v)
		}
	})
}

// FuzzDecodeRules feeds arbitrary bodies to the decoders of PATCH
// /v1/sessions/{id} (idle_timeout_s) and PUT /v1/settings, then to their
// checks, with arbitrary session lifetimes: 400 invalid_request naming the
// field or success, never a panic; a rule that passes is 0 or within the
// server's minimum, a year and the session's lifetime.
func FuzzDecodeRules(f *testing.F) {
	for _, s := range []string{
		`{"idle_timeout_s":3600}`, `{"idle_timeout_s":0}`, `{"idle_timeout_s":-1}`, `{"idle_timeout_s":3599}`,
		`{"idle_timeout_s":31536000}`, `{"idle_timeout_s":31536001}`, `{"idle_timeout_s":9223372036854775807}`,
		`{"idle_timeout_s":-9223372036854775808}`, `{"idle_timeout_s":1e3}`, `{"idle_timeout_s":"1h"}`, `{"idle_timeout_s":null}`,
		`{"name":"Hotel lobby PC","idle_timeout_s":604800}`,
		`{"auto_logout_inactive_after_s":2592000,"approve_new_devices":true}`, `{"auto_logout_inactive_after_s":-5}`,
		`{"auto_logout_inactive_after_s":1}`, `{"approve_new_devices":"yes"}`, `{"auto_logout_inactive_after_s":1.5}`,
		`[]`, `null`, `{`, ``,
	} {
		f.Add(s, int64(365*24*3600))
	}
	f.Add(`{"idle_timeout_s":43200}`, int64(12*3600))
	f.Fuzz(func(t *testing.T, body string, lifetimeS int64) {
		const minRule = time.Hour
		lifetime := time.Duration(lifetimeS%(1<<33)) * time.Second
		var upd api.UpdateSessionRequest
		err := decodeBody(strings.NewReader(body), &upd, false)
		checkDecoded(t, err)
		if err == nil && upd.IdleTimeoutS != nil {
			rule, err := checkIdleTimeout(*upd.IdleTimeoutS, minRule, lifetime)
			checkField(t, err, "idle_timeout_s")
			if err == nil && rule != 0 && (rule < minRule || rule > MaxIdleTimeout || (lifetime > 0 && rule > lifetime)) {
				t.Fatalf("rule %v passed (lifetime %v)", rule, lifetime)
			}
			if err == nil && rule != time.Duration(*upd.IdleTimeoutS)*time.Second {
				t.Fatalf("rule %v from %d seconds", rule, *upd.IdleTimeoutS)
			}
		}
		var st api.Settings
		err = decodeBody(strings.NewReader(body), &st, false)
		checkDecoded(t, err)
		if err == nil {
			got, err := checkSettings(st, minRule)
			checkField(t, err, "auto_logout_inactive_after_s")
			if r := got.AutoLogoutInactiveAfter; err == nil && r != 0 && (r < minRule || r > MaxIdleTimeout) {
				t.Fatalf("account rule %v passed", r)
			}
			if err == nil && settingsView(got) != st {
				t.Fatalf("settings %+v came back as %+v", st, settingsView(got))
			}
		}
	})
}

// checkField is checkDecoded for a check that must name field when it
// refuses.
func checkField(t *testing.T, err error, field string) {
	t.Helper()
	checkDecoded(t, err)
	var ae *apiError
	if errors.As(err, &ae) && ae.details[api.DetailField] != field {
		t.Fatalf("error %v names %v, want %s", err, ae.details[api.DetailField], field)
	}
}
