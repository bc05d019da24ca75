package server_test

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"

	"sessionguard/api"
	"sessionguard/api/dpop"
	"sessionguard/server"
)

// Device-bound tokens (issue 21), over HTTP against the real server: a
// session signed in with a DPoP proof is bound to the proof's key, and
// its token is refused without a fresh proof by that key.

// prover makes DPoP proofs: a device's key (*dpop.Key, Ed25519), a P-256
// one (esKey), or a broken one (wrongURL).
type prover interface {
	Proof(method, target, accessToken string, now time.Time) (string, error)
	Thumbprint() string
}

func newKey(t testing.TB) *dpop.Key {
	t.Helper()
	k, err := dpop.NewKey()
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// privateOf is k's private key, for proofs Key.Proof never makes.
func privateOf(t testing.TB, k *dpop.Key) ed25519.PrivateKey {
	t.Helper()
	s, err := k.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	der, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	priv, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		t.Fatal(err)
	}
	return priv.(ed25519.PrivateKey)
}

// esKey is a P-256 proof key (ES256), the other algorithm the server
// takes.
type esKey struct {
	priv *ecdsa.PrivateKey
	jkt  string
}

func newESKey(t testing.TB) *esKey {
	t.Helper()
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	jkt, err := dpop.Thumbprint(&jose.JSONWebKey{Key: &priv.PublicKey})
	if err != nil {
		t.Fatal(err)
	}
	return &esKey{priv: priv, jkt: jkt}
}

func (k *esKey) Thumbprint() string { return k.jkt }

func (k *esKey) Proof(method, target, accessToken string, now time.Time) (string, error) {
	return forge(jose.ES256, k.priv, &jose.JSONWebKey{Key: &k.priv.PublicKey}, dpop.Type,
		claims(method, target, accessToken, now))
}

// wrongURL makes its key's proofs for another URL than asked.
type wrongURL struct{ prover }

func (w wrongURL) Proof(method, target, accessToken string, now time.Time) (string, error) {
	return w.prover.Proof(method, target+"/elsewhere", accessToken, now)
}

// claims are a proof's claims for method on target (its query left out)
// with token's ath, made at now.
func claims(method, target, token string, now time.Time) map[string]any {
	u, _ := url.Parse(target)
	u.RawQuery = ""
	jti := make([]byte, 16)
	_, _ = rand.Read(jti)
	c := map[string]any{"jti": base64.RawURLEncoding.EncodeToString(jti), "htm": method, "htu": u.String(), "iat": now.Unix()}
	if token != "" {
		c["ath"] = dpop.AccessTokenHash(token)
	}
	return c
}

// forge signs any claims with any key, header jwk and typ (go-jose).
func forge(alg jose.SignatureAlgorithm, key any, embed *jose.JSONWebKey, typ string, c map[string]any) (string, error) {
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	if embed != nil {
		opts = opts.WithHeader("jwk", embed)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		return "", err
	}
	payload, _ := json.Marshal(c)
	jws, err := s.Sign(payload)
	if err != nil {
		return "", err
	}
	return jws.CompactSerialize()
}

func mustForge(t testing.TB, alg jose.SignatureAlgorithm, key any, embed *jose.JSONWebKey, typ string, c map[string]any) string {
	t.Helper()
	p, err := forge(alg, key, embed, typ, c)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// proofAt is key's proof for method on target, for token, made at at.
func (e *env) proofAt(key prover, method, target, token string, at time.Time) string {
	e.t.Helper()
	p, err := key.Proof(method, target, token, at)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

// proofFor is key's proof for method on path of this server, for token,
// made at the server's clock.
func (e *env) proofFor(key prover, method, path, token string) string {
	e.t.Helper()
	return e.proofAt(key, method, e.http.URL+path, token, e.clock.Now())
}

// signInProof is the DPoP header of a sign-in POST to path by key (none
// for a nil key).
func (e *env) signInProof(key prover, path string) []string {
	e.t.Helper()
	if key == nil {
		return nil
	}
	return []string{"DPoP", e.proofFor(key, "POST", path, "")}
}

// boundLogin signs in from a device with key's proof: a bound session.
func (e *env) boundLogin(username, deviceName string, key prover) api.Login {
	e.t.Helper()
	var l api.Login
	e.do("POST", "/v1/login", "", api.LoginRequest{Username: username, Password: testPassword, Device: device(deviceName)},
		e.signInProof(key, "/v1/login")...).wantOK(e.t, 200, &l)
	if l.Session == nil || !l.Session.Bound || l.AccessToken == "" {
		e.t.Fatalf("bound sign-in answered %+v", l)
	}
	return l
}

// callBound makes a call as a bound device does: Authorization: DPoP and
// a fresh proof by key; hdr are more headers.
func (e *env) callBound(key prover, method, path, token string, body any, hdr ...string) reply {
	e.t.Helper()
	h := append([]string{"Authorization", dpop.Scheme + " " + token, "DPoP", e.proofFor(key, method, path, token)}, hdr...)
	return e.do(method, path, "", body, h...)
}

// refreshWith refreshes with rt and hdr.
func (e *env) refreshWith(rt string, hdr ...string) reply {
	e.t.Helper()
	return e.do("POST", "/v1/token/refresh", "", api.RefreshRequest{RefreshToken: rt}, hdr...)
}

// wantCopyRefused checks the answer to a bound token used without its
// key: 401 invalid_token, reason dpop, WWW-Authenticate.
func wantCopyRefused(t testing.TB, r reply) {
	t.Helper()
	e := r.wantError(t, 401, api.CodeInvalidToken)
	if e.Details[api.DetailReason] != api.ReasonDPoP {
		t.Fatalf("details = %v, want reason %q", e.Details, api.ReasonDPoP)
	}
	if got := r.header.Get("WWW-Authenticate"); got != `DPoP error="invalid_token"` {
		t.Fatalf("WWW-Authenticate = %q", got)
	}
}

// wantBadProof checks the answer to an invalid proof: status,
// invalid_dpop_proof, WWW-Authenticate.
func wantBadProof(t testing.TB, r reply, status int) api.ErrorDetail {
	t.Helper()
	e := r.wantError(t, status, api.CodeInvalidDPoPProof)
	if got := r.header.Get("WWW-Authenticate"); got != `DPoP error="invalid_dpop_proof"` {
		t.Fatalf("WWW-Authenticate = %q", got)
	}
	return e
}

// Outcomes of a request in the tables below.
const (
	accepted    = iota // 2xx
	copyRefused        // 401 invalid_token, reason dpop
	badProof           // invalid_dpop_proof
)

func wantOutcome(t testing.TB, r reply, want, badStatus int) {
	t.Helper()
	switch want {
	case accepted:
		if r.status/100 != 2 {
			t.Fatalf("status %d, want success (body %s)", r.status, r.body)
		}
	case copyRefused:
		wantCopyRefused(t, r)
	case badProof:
		wantBadProof(t, r, badStatus)
	}
}

const thief = "203.0.113.7"

// TestBoundCalls: every way a call with a bound session's access token
// can be refused, and the ways it is taken; the session's use without
// its key is audited once, and the device that holds the key goes on.
func TestBoundCalls(t *testing.T) {
	e := newEnv(t, trustLoopback)
	e.signUp("ana")
	k := newKey(t)
	own := privateOf(t, k)
	ownJWK := &jose.JSONWebKey{Key: own.Public()}
	laptop := e.boundLogin("ana", "Laptop", k)
	desk := e.login("ana", "Desk", false) // unbound: reads the log
	other, es := newKey(t), newESKey(t)
	tok := laptop.AccessToken
	me := e.http.URL + "/v1/me"
	now := func() time.Time { return e.clock.Now() }
	auth := func(scheme string) []string { return []string{"Authorization", scheme + " " + tok} }
	with := func(scheme string, proofs ...string) []string {
		h := auth(scheme)
		for _, p := range proofs {
			h = append(h, "DPoP", p)
		}
		return h
	}
	tampered := func() string {
		p := e.proofAt(k, "GET", me, tok, now())
		dot := strings.LastIndexByte(p, '.')
		sig, _ := base64.RawURLEncoding.DecodeString(p[dot+1:])
		sig[0] ^= 1
		return p[:dot+1] + base64.RawURLEncoding.EncodeToString(sig)
	}
	none := func() string {
		h := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"dpop+jwt"}`))
		c, _ := json.Marshal(claims("GET", me, tok, now()))
		return h + "." + base64.RawURLEncoding.EncodeToString(c) + "."
	}
	cases := []struct {
		name string
		hdr  func() []string
		want int
	}{
		{"no proof, Bearer", func() []string { return auth("Bearer") }, copyRefused},
		{"no proof, DPoP scheme", func() []string { return auth("DPoP") }, copyRefused},
		{"another key's proof", func() []string { return with("DPoP", e.proofAt(other, "GET", me, tok, now())) }, copyRefused},
		{"another key's P-256 proof", func() []string { return with("DPoP", e.proofAt(es, "GET", me, tok, now())) }, copyRefused},
		{"another key's proof, for another method too", func() []string {
			return with("DPoP", e.proofAt(other, "POST", me, tok, now()))
		}, copyRefused},
		{"another key's proof, stale too", func() []string {
			return with("DPoP", e.proofAt(other, "GET", me, tok, now().Add(-time.Hour)))
		}, copyRefused},
		{"own key, another method", func() []string { return with("DPoP", e.proofAt(k, "POST", me, tok, now())) }, badProof},
		{"own key, another path", func() []string {
			return with("DPoP", e.proofAt(k, "GET", e.http.URL+"/v1/sessions", tok, now()))
		}, badProof},
		{"own key, another host", func() []string {
			return with("DPoP", e.proofAt(k, "GET", "https://sessions.example.org/v1/me", tok, now()))
		}, badProof},
		{"own key, iat 61 s behind the server", func() []string {
			return with("DPoP", e.proofAt(k, "GET", me, tok, now().Add(-61*time.Second)))
		}, badProof},
		{"own key, iat 61 s ahead of the server", func() []string {
			return with("DPoP", e.proofAt(k, "GET", me, tok, now().Add(61*time.Second)))
		}, badProof},
		{"own key, iat 59 s behind (skew taken)", func() []string {
			return with("DPoP", e.proofAt(k, "GET", me, tok, now().Add(-59*time.Second)))
		}, accepted},
		{"own key, iat 59 s ahead (skew taken)", func() []string {
			return with("DPoP", e.proofAt(k, "GET", me, tok, now().Add(59*time.Second)))
		}, accepted},
		{"own key, no ath", func() []string { return with("DPoP", e.proofAt(k, "GET", me, "", now())) }, badProof},
		{"own key, another token's ath", func() []string {
			return with("DPoP", e.proofAt(k, "GET", me, desk.AccessToken, now()))
		}, badProof},
		{"own key, typ JWT", func() []string {
			return with("DPoP", mustForge(t, jose.EdDSA, own, ownJWK, "JWT", claims("GET", me, tok, now())))
		}, badProof},
		{"own key, no jti", func() []string {
			c := claims("GET", me, tok, now())
			delete(c, "jti")
			return with("DPoP", mustForge(t, jose.EdDSA, own, ownJWK, dpop.Type, c))
		}, badProof},
		{"own key, no jwk in the header", func() []string {
			return with("DPoP", mustForge(t, jose.EdDSA, own, nil, dpop.Type, claims("GET", me, tok, now())))
		}, badProof},
		{"signature tampered", func() []string { return with("DPoP", tampered()) }, badProof},
		{"HS256", func() []string {
			return with("DPoP", mustForge(t, jose.HS256, []byte(strings.Repeat("k", 32)), nil, dpop.Type, claims("GET", me, tok, now())))
		}, badProof},
		{"alg none", func() []string { return with("DPoP", none()) }, badProof},
		{"malformed", func() []string { return with("DPoP", "not.a.proof") }, badProof},
		{"empty DPoP header", func() []string { return with("DPoP", "") }, badProof},
		{"two DPoP headers", func() []string {
			return with("DPoP", e.proofAt(k, "GET", me, tok, now()), e.proofAt(k, "GET", me, tok, now()))
		}, badProof},
		{"own key, DPoP scheme", func() []string { return with("DPoP", e.proofAt(k, "GET", me, tok, now())) }, accepted},
		{"own key, Bearer scheme", func() []string { return with("Bearer", e.proofAt(k, "GET", me, tok, now())) }, accepted},
		{"own key, scheme in lower case", func() []string { return with("dpop", e.proofAt(k, "GET", me, tok, now())) }, accepted},
		{"own key, https in htu", func() []string {
			return with("DPoP", e.proofAt(k, "GET", strings.Replace(me, "http://", "https://", 1), tok, now()))
		}, accepted},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			h := append(tc.hdr(), "X-Forwarded-For", thief)
			r := e.do("GET", "/v1/me", "", nil, h...)
			wantOutcome(t, r, tc.want, 401)
			if tc.want == accepted {
				var me api.MeResponse
				r.decode(t, &me)
				if me.Session.ID != laptop.Session.ID || !me.Session.Bound {
					t.Fatalf("me = %+v", me.Session)
				}
			}
		})
	}

	t.Run("replay", func(t *testing.T) {
		p := e.proofFor(k, "GET", "/v1/me", tok)
		e.do("GET", "/v1/me", "", nil, with("DPoP", p)...).wantOK(t, 200, nil)
		wantBadProof(t, e.do("GET", "/v1/me", "", nil, with("DPoP", p)...), 401)
		// Still refused once the clock moved on: the proof is too old then.
		e.clock.Advance(30 * time.Second)
		wantBadProof(t, e.do("GET", "/v1/me", "", nil, with("DPoP", p)...), 401)
		e.clock.Advance(31 * time.Second)
		wantBadProof(t, e.do("GET", "/v1/me", "", nil, with("DPoP", p)...), 401)
	})

	// Many refused uses, one event: about the laptop's session, from
	// where the copy was used, saying what was tried first.
	evs := e.auditsOf(desk.AccessToken, api.AuditDPoPRefused, laptop.Session.ID)
	if len(evs) != 1 {
		t.Fatalf("%d session.dpop_refused events, want 1: %+v", len(evs), evs)
	}
	ev := evs[0]
	if ev.SessionID != laptop.Session.ID || ev.DeviceName != "Laptop" || ev.TargetDeviceName != "Laptop" ||
		ev.IP != thief || !strings.Contains(ev.Detail, "(no proof)") {
		t.Fatalf("event = %+v", ev)
	}
	// Not a revoke: the laptop goes on.
	e.callBound(k, "GET", "/v1/sessions", tok, nil).wantOK(t, 200, nil)
	for series, want := range map[string]float64{
		`sessiond_dpop_refusals_total{reason="missing"}`:   2,
		`sessiond_dpop_refusals_total{reason="other_key"}`: 4,
		`sessiond_dpop_refusals_total{reason="htm"}`:       1,
		`sessiond_dpop_refusals_total{reason="htu"}`:       2,
		`sessiond_dpop_refusals_total{reason="iat"}`:       3,
		`sessiond_dpop_refusals_total{reason="ath"}`:       2,
		`sessiond_dpop_refusals_total{reason="replay"}`:    2,
		`sessiond_dpop_refusals_total{reason="typ"}`:       1,
	} {
		if got := e.metric(series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
}

// TestUnboundCalls: a session signed in without a proof works as before
// with Bearer; with scheme DPoP too; a proof it carries anyway is checked
// and spent.
func TestUnboundCalls(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	l := e.login("ana", "Laptop", false)
	if l.Session.Bound {
		t.Fatal("a sign-in without a proof is bound")
	}
	k := newKey(t)
	tok := l.AccessToken
	reused := e.proofFor(k, "GET", "/v1/me", tok)
	cases := []struct {
		name string
		hdr  []string
		want int
	}{
		{"Bearer", []string{"Authorization", "Bearer " + tok}, accepted},
		{"scheme DPoP, no proof", []string{"Authorization", "DPoP " + tok}, accepted},
		{"with a proof", []string{"Authorization", "DPoP " + tok, "DPoP", reused}, accepted},
		{"the same proof again", []string{"Authorization", "DPoP " + tok, "DPoP", reused}, badProof},
		{"a proof for another method", []string{"Authorization", "DPoP " + tok, "DPoP", e.proofFor(k, "PUT", "/v1/me", tok)}, badProof},
		{"a malformed proof", []string{"Authorization", "Bearer " + tok, "DPoP", "x"}, badProof},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.do("GET", "/v1/me", "", nil, tc.hdr...)
			wantOutcome(t, r, tc.want, 401)
			if tc.want == accepted {
				var me api.MeResponse
				r.decode(t, &me)
				if me.Session.Bound {
					t.Fatal("unbound session shows bound")
				}
			}
		})
	}
	// An unknown token: invalid_token (no reason), with a proof or not;
	// a proof no key signed is refused before the token is looked at.
	for _, hdr := range [][]string{
		{"Authorization", "Bearer sga_unknown"},
		{"Authorization", "DPoP sga_unknown", "DPoP", e.proofFor(k, "GET", "/v1/me", "sga_unknown")},
	} {
		r := e.do("GET", "/v1/me", "", nil, hdr...)
		if d := r.wantError(t, 401, api.CodeInvalidToken); d.Details[api.DetailReason] != nil {
			t.Fatalf("unknown token: details %v", d.Details)
		}
	}
	wantBadProof(t, e.do("GET", "/v1/me", "", nil, "Authorization", "DPoP sga_unknown", "DPoP", "x.y.z"), 401)
	for _, a := range []string{"", "Basic dXNlcjpwdw==", "DPoP", "DPoP   ", "Bearer"} {
		e.do("GET", "/v1/me", "", nil, "Authorization", a).wantError(t, 401, api.CodeInvalidToken)
	}
	if got := e.metric(`sessiond_dpop_refusals_total{reason="missing"}`); got != 0 {
		t.Fatalf("unbound calls counted as missing proofs: %v", got)
	}
}

// TestBoundRefresh: a bound session's refresh needs a proof by its key
// (no ath); an unbound one's refresh takes a proof or none and stays
// unbound.
func TestBoundRefresh(t *testing.T) {
	e := newEnv(t, trustLoopback)
	e.signUp("ana")
	k, other := newKey(t), newKey(t)
	l := e.boundLogin("ana", "Laptop", k)
	desk := e.login("ana", "Desk", false)
	rt, access := l.RefreshToken, l.AccessToken
	refreshURL := e.http.URL + "/v1/token/refresh"
	now := func() time.Time { return e.clock.Now() }
	cases := []struct {
		name  string
		proof func() []string
		want  int
	}{
		{"own key", func() []string { return []string{"DPoP", e.proofAt(k, "POST", refreshURL, "", now())} }, accepted},
		{"no proof", func() []string { return nil }, copyRefused},
		{"another key", func() []string { return []string{"DPoP", e.proofAt(other, "POST", refreshURL, "", now())} }, copyRefused},
		{"another key with an ath", func() []string {
			return []string{"DPoP", e.proofAt(other, "POST", refreshURL, access, now())}
		}, copyRefused},
		{"own key, with an ath", func() []string { return []string{"DPoP", e.proofAt(k, "POST", refreshURL, access, now())} }, badProof},
		{"own key, another URL", func() []string { return []string{"DPoP", e.proofAt(wrongURL{k}, "POST", refreshURL, "", now())} }, badProof},
		{"own key, GET", func() []string { return []string{"DPoP", e.proofAt(k, "GET", refreshURL, "", now())} }, badProof},
		{"own key, too old", func() []string {
			return []string{"DPoP", e.proofAt(k, "POST", refreshURL, "", now().Add(-2*time.Minute))}
		}, badProof},
		{"malformed", func() []string { return []string{"DPoP", "a.b.c"} }, badProof},
		{"own key again", func() []string { return []string{"DPoP", e.proofAt(k, "POST", refreshURL, "", now())} }, accepted},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := e.refreshWith(rt, append(tc.proof(), "X-Forwarded-For", thief)...)
			wantOutcome(t, r, tc.want, 400)
			if tc.want == accepted {
				var toks api.Tokens
				r.decode(t, &toks)
				rt, access = toks.RefreshToken, toks.AccessToken
				// The new access token is bound too.
				wantCopyRefused(t, e.do("GET", "/v1/me", access, nil, "X-Forwarded-For", thief))
				e.callBound(k, "GET", "/v1/me", access, nil).wantOK(t, 200, nil)
			}
		})
	}
	t.Run("replayed proof", func(t *testing.T) {
		p := e.proofFor(k, "POST", "/v1/token/refresh", "")
		var toks api.Tokens
		e.refreshWith(rt, "DPoP", p).wantOK(t, 200, &toks)
		rt, access = toks.RefreshToken, toks.AccessToken
		wantBadProof(t, e.refreshWith(rt, "DPoP", p), 400)
	})
	if evs := e.auditsOf(desk.AccessToken, api.AuditDPoPRefused, l.Session.ID); len(evs) != 1 || evs[0].IP != thief {
		t.Fatalf("refused refreshes audited %+v, want one event from %s", evs, thief)
	}
	e.callBound(k, "GET", "/v1/me", access, nil).wantOK(t, 200, nil)

	t.Run("unbound", func(t *testing.T) {
		u := e.login("ana", "Old app", false)
		var toks api.Tokens
		e.refreshWith(u.RefreshToken).wantOK(t, 200, &toks)
		e.refreshWith(toks.RefreshToken, e.signInProof(k, "/v1/token/refresh")...).wantOK(t, 200, &toks)
		// A proof at refresh binds nothing: the session stays unbound.
		var me api.MeResponse
		e.do("GET", "/v1/me", toks.AccessToken, nil).wantOK(t, 200, &me)
		if me.Session.Bound {
			t.Fatal("refresh with a proof bound an unbound session")
		}
		// An invalid proof is refused, and the token is not spent.
		wantBadProof(t, e.refreshWith(toks.RefreshToken, "DPoP", e.proofFor(k, "POST", "/v1/login", "")), 400)
		e.refreshWith(toks.RefreshToken).wantOK(t, 200, nil)
	})
}

// TestCopiedTokensAreUselessWithoutTheKey is the journey the issue is
// about, on both stores: a bound device's access and refresh tokens are
// copied; the copy is refused whatever key it comes with (and even after
// the device rotated its tokens it does not count as reuse), once
// audited, while the device keeps working.
func TestCopiedTokensAreUselessWithoutTheKey(t *testing.T) {
	onBothStores(t, func(t *testing.T, newEnv envMaker) {
		e := newEnv(t, trustLoopback)
		e.signUp("ana")
		k, stolen := newKey(t), newESKey(t)
		phone := e.boundLogin("ana", "Phone", k)
		desk := e.login("ana", "Desk", false)
		copied := phone // the thief's copy of the tokens
		from := []string{"X-Forwarded-For", thief}

		wantCopyRefused(t, e.callBound(stolen, "GET", "/v1/me", copied.AccessToken, nil, from...))
		wantCopyRefused(t, e.do("GET", "/v1/sessions", copied.AccessToken, nil, from...))
		wantCopyRefused(t, e.do("DELETE", "/v1/sessions/"+desk.Session.ID, copied.AccessToken, nil, from...))
		wantCopyRefused(t, e.refreshWith(copied.RefreshToken, append(e.signInProof(stolen, "/v1/token/refresh"), from...)...))
		wantCopyRefused(t, e.refreshWith(copied.RefreshToken, from...))
		// The event stream too.
		r := e.do("GET", "/v1/events", copied.AccessToken, nil, from...)
		wantCopyRefused(t, r)

		// The phone refreshes (its refresh token rotates) and calls on.
		var toks api.Tokens
		e.refreshWith(phone.RefreshToken, e.signInProof(k, "/v1/token/refresh")...).wantOK(t, 200, &toks)
		// The copied refresh token is now a rotated one: without the key
		// it is refused as a copy, not as reuse (which would end the
		// phone's session).
		e.clock.Advance(time.Minute)
		wantCopyRefused(t, e.refreshWith(copied.RefreshToken, from...))
		var me api.MeResponse
		e.callBound(k, "GET", "/v1/me", toks.AccessToken, nil).wantOK(t, 200, &me)
		if !me.Session.Bound || me.Session.RevokedAt != nil {
			t.Fatalf("phone's session after the copy's attempts: %+v", me.Session)
		}
		s := e.stream(toks.AccessToken, "Authorization", "DPoP "+toks.AccessToken,
			"DPoP", e.proofFor(k, "GET", "/v1/events", toks.AccessToken))
		s.cancel()
		e.refreshWith(toks.RefreshToken, e.signInProof(k, "/v1/token/refresh")...).wantOK(t, 200, nil)

		evs := e.auditsOf(desk.AccessToken, api.AuditDPoPRefused, phone.Session.ID)
		if len(evs) != 1 || evs[0].IP != thief || evs[0].SessionID != phone.Session.ID ||
			!strings.Contains(evs[0].Detail, "another key") {
			t.Fatalf("session.dpop_refused events = %+v, want one, from %s, another key", evs, thief)
		}
		if n := count(e.auditTypes(desk.AccessToken), api.AuditRefreshReuseDetected); n != 0 {
			t.Fatalf("%d refresh reuse events: the copy ended the session", n)
		}
	})
}

// TestBoundSessionsListedAndAnnounced: bound shows in GET /v1/sessions,
// GET /v1/me and the session.created event.
func TestBoundSessionsListedAndAnnounced(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	desk := e.login("ana", "Desk", false)
	s := e.stream(desk.AccessToken)
	k := newKey(t)
	laptop := e.boundLogin("ana", "Laptop", k)
	ev := s.nextEvent(t)
	var created api.SessionCreatedEvent
	if err := json.Unmarshal([]byte(ev.data), &created); err != nil || ev.name != api.EventSessionCreated {
		t.Fatalf("event %+v: %v", ev, err)
	}
	if created.Session.ID != laptop.Session.ID || !created.Session.Bound || !strings.Contains(ev.data, `"bound":true`) {
		t.Fatalf("session.created = %s", ev.data)
	}
	bound := map[string]bool{}
	for _, v := range e.sessions(desk.AccessToken, "").Sessions {
		bound[v.Device.Name] = v.Bound
	}
	if !bound["Laptop"] || bound["Desk"] || len(bound) != 2 {
		t.Fatalf("listed bound = %v", bound)
	}
	var me api.MeResponse
	e.do("GET", "/v1/me", desk.AccessToken, nil).wantOK(t, 200, &me)
	if me.Session.Bound || !strings.Contains(string(e.do("GET", "/v1/me", desk.AccessToken, nil).body), `"bound":false`) {
		t.Fatalf("unbound me = %+v", me.Session)
	}
}

// signInFlow is one way to sign in, the last request of which starts the
// session: setup prepares it on a server taking unbound sign-ins; run
// makes the requests before the last (with first's proofs) and returns
// the last, to be sent with a proof by last (nil: none).
type signInFlow struct {
	name  string
	setup func(e *env) any
	run   func(e *env, st any, first prover) (last func(last prover) reply)
}

var signInFlows = []signInFlow{
	{"password", func(e *env) any { e.signUp("ana"); return nil },
		func(e *env, _ any, _ prover) func(prover) reply {
			return func(last prover) reply {
				return e.do("POST", "/v1/login", "", api.LoginRequest{Username: "ana", Password: testPassword,
					Device: device("Laptop")}, e.signInProof(last, "/v1/login")...)
			}
		}},
	{"second factor", func(e *env) any {
		e.signUp("mia")
		secret, _ := e.turnOnTOTP(e.login("mia", "Desk", false).AccessToken)
		return secret
	}, func(e *env, st any, first prover) func(prover) reply {
		var l api.Login
		e.do("POST", "/v1/login", "", api.LoginRequest{Username: "mia", Password: testPassword, Device: device("Laptop")},
			e.signInProof(first, "/v1/login")...).wantOK(e.t, 200, &l)
		code := e.code(st.(string), 0)
		return func(last prover) reply {
			return e.do("POST", "/v1/login/mfa", "", api.MFALoginRequest{MFAToken: l.MFAToken, Code: code},
				e.signInProof(last, "/v1/login/mfa")...)
		}
	}},
	{"saved login", func(e *env) any {
		e.signUp("rem")
		return e.logoutRemember(e.login("rem", "Laptop", false))
	}, func(e *env, st any, _ prover) func(prover) reply {
		return func(last prover) reply {
			return e.do("POST", "/v1/login/remembered", "", api.RememberedLoginRequest{Credential: st.(string),
				Device: device("Laptop")}, e.signInProof(last, "/v1/login/remembered")...)
		}
	}},
	{"approval", func(e *env) any {
		e.signUp("ola")
		phone := e.login("ola", "Pixel 8", false)
		e.putSettings(phone.AccessToken, api.Settings{ApproveNewDevices: true}).wantOK(e.t, 200, nil)
		return phone
	}, func(e *env, st any, first prover) func(prover) reply {
		var l api.Login
		e.do("POST", "/v1/login", "", api.LoginRequest{Username: "ola", Password: testPassword, Device: device("Laptop"),
			InstallKey: installKey("laptop")}, e.signInProof(first, "/v1/login")...).wantOK(e.t, 200, &l)
		wantApproval(e.t.(*testing.T), l)
		e.decide(st.(api.Login).AccessToken, l.Approval.ID, true, l.Approval.Number).wantOK(e.t, 204, nil)
		return func(last prover) reply {
			return e.do("POST", "/v1/login/approval", "", api.ApprovalPollRequest{ApprovalToken: l.ApprovalToken,
				InstallKey: installKey("laptop")}, e.signInProof(last, "/v1/login/approval")...)
		}
	}},
	{"link code", func(e *env) any {
		e.signUp("lin")
		return e.login("lin", "Pixel 8", false)
	}, func(e *env, st any, _ prover) func(prover) reply {
		var ls api.LinkStart
		e.do("POST", "/v1/link/start", "", api.LinkStartRequest{Device: device("Laptop")}).wantOK(e.t, 200, &ls)
		e.do("POST", "/v1/link/approve", st.(api.Login).AccessToken, api.LinkApproveRequest{UserCode: ls.UserCode}).wantOK(e.t, 204, nil)
		return func(last prover) reply {
			return e.do("POST", "/v1/link/poll", "", api.LinkPollRequest{LinkToken: ls.LinkToken},
				e.signInProof(last, "/v1/link/poll")...)
		}
	}},
}

// restart stops e's server and starts another on its database, its clock
// where e's was, configured by opts.
func (e *env) restart(opts ...option) *env {
	e.t.Helper()
	e.stop()
	next := newEnvAt(e.t, e.dbPath, opts...)
	next.clock.Set(e.clock.Now())
	return next
}

func requireBound(c *server.Config) { c.RequireBound = true }

// TestSignInBindsOnEveryRoute: each route that starts a session binds it
// to the key of its proof; an invalid proof is refused 400 and loses
// nothing (the same sign-in then goes through with a good one); with
// --require-bound a sign-in without a proof is refused, unbound sessions
// from before keep working.
func TestSignInBindsOnEveryRoute(t *testing.T) {
	modes := []struct {
		name         string
		requireBound bool
		first        bool // the requests before the last carry a proof
		last         []prover
		// wants are the outcomes of the last request with each of last.
		wants []int
	}{
		{"unbound", false, false, []prover{nil}, []int{accepted}},
		{"bound", false, true, []prover{nil /* replaced by the key */}, []int{accepted}},
		{"invalid proof, then a good one", false, true, []prover{wrongURL{}, nil}, []int{badProof, accepted}},
		{"require-bound, no proof, then a proof", true, true, []prover{noProof{}, nil}, []int{badProof, accepted}},
	}
	for _, f := range signInFlows {
		for _, m := range modes {
			t.Run(f.name+"/"+m.name, func(t *testing.T) {
				e := newEnv(t, shortPoll)
				st := f.setup(e)
				if m.requireBound {
					e = e.restart(shortPoll, requireBound)
				}
				k := newKey(t)
				var first prover
				if m.first {
					first = k
				}
				last := f.run(e, st, first)
				for i, p := range m.last {
					switch p.(type) {
					case nil:
						if m.name != "unbound" {
							p = k
						}
					case wrongURL:
						p = wrongURL{k}
					case noProof:
						p = nil
					}
					r := last(p)
					wantOutcome(t, r, m.wants[i], 400)
					if m.wants[i] == badProof && m.requireBound {
						if msg := r.errBody(t).Message; !strings.Contains(msg, "update the app") {
							t.Fatalf("message %q", msg)
						}
					}
					if m.wants[i] != accepted {
						continue
					}
					var l api.Login
					r.decode(t, &l)
					if l.Session == nil || l.Session.Bound != (p != nil) {
						t.Fatalf("signed in with proof %v: session %+v", p != nil, l.Session)
					}
					if p == nil {
						e.use(l)
						continue
					}
					wantCopyRefused(t, e.do("GET", "/v1/me", l.AccessToken, nil))
					e.callBound(k, "GET", "/v1/me", l.AccessToken, nil).wantOK(t, 200, nil)
				}
			})
		}
	}
}

// noProof, in TestSignInBindsOnEveryRoute, is a request without a proof
// where nil means the key.
type noProof struct{ prover }

// TestRequireBound: with --require-bound, a sign-in without a proof is
// refused before anything is checked; with one it is bound; a session
// signed in unbound before keeps working, refresh included.
func TestRequireBound(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	old := e.login("ana", "Old app", false)
	e = e.restart(requireBound)
	r := e.do("POST", "/v1/login", "", api.LoginRequest{Username: "ana", Password: "wrong password", Device: device("Laptop")})
	d := wantBadProof(t, r, 400)
	if !strings.Contains(d.Message, "device-bound sign-ins only") {
		t.Fatalf("message %q", d.Message)
	}
	var toks api.Tokens
	e.refreshWith(old.RefreshToken).wantOK(t, 200, &toks)
	e.do("GET", "/v1/me", toks.AccessToken, nil).wantOK(t, 200, nil)
	e.boundLogin("ana", "Laptop", newESKey(t))
	if got := e.metric(`sessiond_dpop_refusals_total{reason="unbound_sign_in"}`); got != 1 {
		t.Fatalf("unbound_sign_in refusals = %v", got)
	}
}

// TestForwardedHost: htu is checked against the host the client
// addressed: X-Forwarded-Host's last value from a trusted proxy, else
// the request's Host.
func TestForwardedHost(t *testing.T) {
	const public = "sessions.example.org"
	cases := []struct {
		name    string
		trusted bool
		htuHost string
		xfh     []string
		want    int
	}{
		{"trusted proxy, its X-Forwarded-Host", true, public, []string{public}, accepted},
		{"trusted proxy, several values: the last", true, public, []string{"evil.example, " + public}, accepted},
		{"trusted proxy, several headers: the last", true, public, []string{"evil.example", public}, accepted},
		{"trusted proxy, a proof for an earlier value", true, "evil.example", []string{"evil.example, " + public}, badProof},
		{"trusted proxy, no X-Forwarded-Host: Host", true, "", nil, accepted},
		{"untrusted peer: X-Forwarded-Host ignored", false, public, []string{public}, badProof},
		{"untrusted peer: Host", false, "", []string{public}, accepted},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var opts []option
			if tc.trusted {
				opts = append(opts, trustLoopback)
			}
			e := newEnv(t, opts...)
			e.signUp("ana")
			k := newKey(t)
			l := e.boundLogin("ana", "Laptop", k)
			target := e.http.URL + "/v1/me"
			if tc.htuHost != "" {
				target = "https://" + tc.htuHost + "/v1/me"
			}
			h := []string{"Authorization", "DPoP " + l.AccessToken, "DPoP", e.proofAt(k, "GET", target, l.AccessToken, e.clock.Now())}
			for _, v := range tc.xfh {
				h = append(h, "X-Forwarded-Host", v)
			}
			wantOutcome(t, e.do("GET", "/v1/me", "", nil, h...), tc.want, 401)
		})
	}
}

// TestReplayMemoryFull: past Config.DPoPReplays remembered proofs, a
// request with a proof is answered 503 rather than let a replay through.
func TestReplayMemoryFull(t *testing.T) {
	e := newEnv(t, func(c *server.Config) { c.DPoPReplays = 3 })
	e.signUp("ana")
	k := newKey(t)
	l := e.boundLogin("ana", "Laptop", k) // a sign-in's proof is not remembered
	for range 3 {
		e.callBound(k, "GET", "/v1/me", l.AccessToken, nil).wantOK(t, 200, nil)
	}
	// Sign-ins, with or without an account, never fill the memory.
	for range 5 {
		e.boundLogin("ana", "Laptop", newKey(t))
	}
	r := e.callBound(k, "GET", "/v1/me", l.AccessToken, nil)
	r.wantError(t, 503, api.CodeUnavailable)
	if r.header.Get("Retry-After") == "" {
		t.Fatal("503 without Retry-After")
	}
	// Proofs are forgotten once they are too old to be taken anyway.
	e.clock.Advance(dpop.Window + 20*time.Second)
	e.callBound(k, "GET", "/v1/me", l.AccessToken, nil).wantOK(t, 200, nil)
}

// TestBoundAcrossReplicas: two replicas on one PostgreSQL database share
// the bound key (in the database) and the once-per-session audit, not
// the proofs each has seen (DESIGN; README "Device-bound tokens").
func TestBoundAcrossReplicas(t *testing.T) {
	r1, r2 := replicaPair(t, trustLoopback)
	r1.signUp("ana")
	k := newKey(t)
	l := r1.boundLogin("ana", "Laptop", k)
	desk := r2.login("ana", "Desk", false)
	// Behind one load balancer: the public host, as both see it.
	const public = "https://sessions.example.org"
	xfh := []string{"X-Forwarded-Host", "sessions.example.org"}
	call := func(e *env, p string) reply {
		return e.do("GET", "/v1/me", "", nil, append([]string{"Authorization", "DPoP " + l.AccessToken, "DPoP", p}, xfh...)...)
	}
	p := r1.proofAt(k, "GET", public+"/v1/me", l.AccessToken, r1.clock.Now())
	call(r2, p).wantOK(t, 200, nil)   // bound on replica 1, used on replica 2
	wantBadProof(t, call(r2, p), 401) // a replay on the replica that saw it
	call(r1, p).wantOK(t, 200, nil)   // not seen on replica 1: per replica
	wantBadProof(t, call(r1, p), 401)
	// A copy without the key, on both replicas: one event.
	wantCopyRefused(t, r1.do("GET", "/v1/me", l.AccessToken, nil))
	wantCopyRefused(t, r2.do("GET", "/v1/me", l.AccessToken, nil))
	if evs := r2.auditsOf(desk.AccessToken, api.AuditDPoPRefused, l.Session.ID); len(evs) != 1 {
		t.Fatalf("%d session.dpop_refused events across two replicas, want 1", len(evs))
	}
}
