package dpop

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

var t0 = time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)

const target = "https://sessions.example.com/v1/me"

var meRequest = Request{Method: "GET", Host: "sessions.example.com", Path: "/v1/me", AccessToken: "at_secret"}

// sign makes a proof with any key, algorithm, header and claims, for the
// cases Key.Proof never makes.
func sign(t *testing.T, alg jose.SignatureAlgorithm, key any, embed *jose.JSONWebKey, typ string, c map[string]any) string {
	t.Helper()
	opts := &jose.SignerOptions{}
	if typ != "" {
		opts = opts.WithType(jose.ContentType(typ))
	}
	if embed != nil {
		opts = opts.WithHeader("jwk", embed)
	}
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: alg, Key: key}, opts)
	if err != nil {
		t.Fatal(err)
	}
	payload, _ := json.Marshal(c)
	jws, err := s.Sign(payload)
	if err != nil {
		t.Fatal(err)
	}
	out, err := jws.CompactSerialize()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func claimsFor(method, htu, token string, iat time.Time) map[string]any {
	c := map[string]any{"jti": newJTI(), "htm": method, "htu": htu, "iat": iat.Unix()}
	if token != "" {
		c["ath"] = AccessTokenHash(token)
	}
	return c
}

func TestCheck(t *testing.T) {
	k, err := NewKey()
	if err != nil {
		t.Fatal(err)
	}
	proof := func(method, url, token string, at time.Time) string {
		p, err := k.Proof(method, url, token, at)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	ec, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecPub := &jose.JSONWebKey{Key: &ec.PublicKey}
	_, edPriv, _ := ed25519.GenerateKey(rand.Reader)
	other, _ := NewKey()
	// tampered: another key's valid payload under this key's header.
	tampered := func() string {
		a := strings.Split(proof("GET", target, "at_secret", t0), ".")
		b := strings.Split(other.mustProof(t, "POST", target, "at_secret", t0), ".")
		return a[0] + "." + b[1] + "." + a[2]
	}()

	for _, tc := range []struct {
		name  string
		proof string
		req   Request
		want  error
	}{
		{"a good proof", proof("GET", target, "at_secret", t0), meRequest, nil},
		{"the query and fragment are not part of htu", proof("GET", target+"?x=1#y", "at_secret", t0), meRequest, nil},
		{"http behind a proxy that ends TLS", proof("GET", "http://sessions.example.com/v1/me", "at_secret", t0), meRequest, nil},
		{"a default port", proof("GET", "https://sessions.example.com:443/v1/me", "at_secret", t0), meRequest, nil},
		{"the host in capitals", proof("GET", "https://SESSIONS.example.com/v1/me", "at_secret", t0), meRequest, nil},
		{"a sign-in without a token", proof("POST", "https://sessions.example.com/v1/login", "", t0),
			Request{Method: "POST", Host: "sessions.example.com", Path: "/v1/login"}, nil},
		{"iat 59 s late", proof("GET", target, "at_secret", t0.Add(-59*time.Second)), meRequest, nil},
		{"iat 59 s early", proof("GET", target, "at_secret", t0.Add(59*time.Second)), meRequest, nil},
		{"ES256", sign(t, jose.ES256, ec, ecPub, Type, claimsFor("GET", target, "at_secret", t0)), meRequest, nil},

		{"empty", "", meRequest, ErrMalformed},
		{"not a JWS", "hello.world", meRequest, ErrMalformed},
		{"too long", strings.Repeat("a", MaxProofLen+1), meRequest, ErrMalformed},
		{"another method", proof("POST", target, "at_secret", t0), meRequest, ErrMethod},
		{"another path", proof("GET", "https://sessions.example.com/v1/sessions", "at_secret", t0), meRequest, ErrURL},
		{"another host", proof("GET", "https://evil.example.net/v1/me", "at_secret", t0), meRequest, ErrURL},
		{"another scheme", sign(t, jose.EdDSA, edPriv, &jose.JSONWebKey{Key: edPriv.Public()}, Type,
			claimsFor("GET", "ftp://sessions.example.com/v1/me", "at_secret", t0)), meRequest, ErrURL},
		{"iat 61 s old", proof("GET", target, "at_secret", t0.Add(-61*time.Second)), meRequest, ErrTime},
		{"iat 61 s ahead", proof("GET", target, "at_secret", t0.Add(61*time.Second)), meRequest, ErrTime},
		{"no ath with a token", proof("GET", target, "", t0), meRequest, ErrATH},
		{"another token's ath", proof("GET", target, "at_other", t0), meRequest, ErrATH},
		{"an ath without a token", proof("POST", "https://sessions.example.com/v1/login", "at_secret", t0),
			Request{Method: "POST", Host: "sessions.example.com", Path: "/v1/login"}, ErrATH},
		{"typ JWT", sign(t, jose.EdDSA, edPriv, &jose.JSONWebKey{Key: edPriv.Public()}, "JWT",
			claimsFor("GET", target, "at_secret", t0)), meRequest, ErrType},
		{"no typ", sign(t, jose.EdDSA, edPriv, &jose.JSONWebKey{Key: edPriv.Public()}, "",
			claimsFor("GET", target, "at_secret", t0)), meRequest, ErrType},
		{"no jwk", sign(t, jose.EdDSA, edPriv, nil, Type, claimsFor("GET", target, "at_secret", t0)), meRequest, ErrKey},
		// go-jose refuses a header jwk with private parts as it parses.
		{"a private jwk", sign(t, jose.EdDSA, edPriv, &jose.JSONWebKey{Key: edPriv}, Type,
			claimsFor("GET", target, "at_secret", t0)), meRequest, ErrMalformed},
		{"signed by another key than the jwk", sign(t, jose.EdDSA, edPriv, &jose.JSONWebKey{Key: other.priv.Public()}, Type,
			claimsFor("GET", target, "at_secret", t0)), meRequest, ErrSignature},
		{"a changed payload", tampered, meRequest, ErrSignature},
		{"HS256 is not accepted", sign(t, jose.HS256, []byte("0123456789abcdef0123456789abcdef"), nil, Type,
			claimsFor("GET", target, "at_secret", t0)), meRequest, ErrMalformed},
		{"no jti", sign(t, jose.EdDSA, edPriv, &jose.JSONWebKey{Key: edPriv.Public()}, Type,
			map[string]any{"htm": "GET", "htu": target, "iat": t0.Unix(), "ath": AccessTokenHash("at_secret")}), meRequest, ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Check(tc.proof, tc.req, t0)
			if tc.want == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if c.JKT == "" || c.JTI == "" {
					t.Fatalf("checked %+v", c)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func (k *Key) mustProof(t *testing.T, method, url, token string, at time.Time) string {
	t.Helper()
	p, err := k.Proof(method, url, token, at)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestKeyRoundTrip: a key read back signs proofs with the same
// thumbprint, which is the key's RFC 7638 thumbprint as the server
// computes it from the proof.
func TestKeyRoundTrip(t *testing.T) {
	k, _ := NewKey()
	s, err := k.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParseKey(s)
	if err != nil {
		t.Fatal(err)
	}
	if back.Thumbprint() != k.Thumbprint() {
		t.Fatalf("thumbprint %s after a round trip, was %s", back.Thumbprint(), k.Thumbprint())
	}
	c, err := Check(back.mustProof(t, "GET", target, "at_secret", t0), meRequest, t0)
	if err != nil || c.JKT != k.Thumbprint() {
		t.Fatalf("checked %+v, %v; want jkt %s", c, err, k.Thumbprint())
	}
	other, _ := NewKey()
	if other.Thumbprint() == k.Thumbprint() {
		t.Fatal("two keys, one thumbprint")
	}
	for _, bad := range []string{"", "not base64!", base64.RawURLEncoding.EncodeToString([]byte("not DER"))} {
		if _, err := ParseKey(bad); err == nil {
			t.Errorf("ParseKey(%q) took it", bad)
		}
	}
}

func TestReplays(t *testing.T) {
	k, _ := NewKey()
	r := NewReplays(3)
	check := func(at time.Time) Checked {
		c, err := Check(k.mustProof(t, "GET", target, "at_secret", at), meRequest, at)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	a := check(t0)
	if err := r.Use(a, t0); err != nil {
		t.Fatal(err)
	}
	if err := r.Use(a, t0.Add(30*time.Second)); !errors.Is(err, ErrReplay) {
		t.Fatalf("a replay 30 s later: %v", err)
	}
	other, _ := NewKey()
	b, err := Check(other.mustProof(t, "GET", target, "at_secret", t0), meRequest, t0)
	if err != nil {
		t.Fatal(err)
	}
	b.JTI = a.JTI // the same jti from another key is another proof
	if err := r.Use(b, t0); err != nil {
		t.Fatalf("another key's proof with the same jti: %v", err)
	}
	if err := r.Use(check(t0), t0); err != nil {
		t.Fatal(err)
	}
	if err := r.Use(check(t0), t0); !errors.Is(err, ErrReplaysFull) {
		t.Fatalf("a fourth proof in a cache of 3: %v", err)
	}
	// Once their iat is out of the window, the proofs are forgotten (Check
	// refuses them anyway) and there is room again.
	later := t0.Add(Window + 2*replaySlot)
	if err := r.Use(check(later), later); err != nil {
		t.Fatalf("after the window: %v", err)
	}
	if n := r.Len(); n != 1 {
		t.Fatalf("%d proofs remembered after the window, want 1", n)
	}
}

func BenchmarkProof(b *testing.B) {
	k, _ := NewKey()
	for b.Loop() {
		if _, err := k.Proof("GET", target, "at_secret", t0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheck(b *testing.B) {
	k, _ := NewKey()
	p, _ := k.Proof("GET", target, "at_secret", t0)
	for b.Loop() {
		if _, err := Check(p, meRequest, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzCheck: no input makes Check panic, and what it accepts verifies
// against the key it names.
func FuzzCheck(f *testing.F) {
	k, _ := NewKey()
	p, _ := k.Proof("GET", target, "at_secret", t0)
	f.Add(p)
	f.Add("")
	f.Add("a.b.c")
	f.Add(strings.Replace(p, ".", "..", 1))
	f.Fuzz(func(t *testing.T, proof string) {
		c, err := Check(proof, meRequest, t0)
		if err == nil && c.JKT == "" {
			t.Fatalf("accepted without a thumbprint: %+v", c)
		}
	})
}
