package server

import (
	"crypto/ed25519"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/api/dpop"
)

// FuzzDPoPHeaders feeds arbitrary Authorization, DPoP and
// X-Forwarded-Host headers to what reads them (readCredentials,
// requestHost, checkProof): never a panic; no token is a 401
// invalid_token with a message; a token read is trimmed and non-empty,
// sent with scheme Bearer or DPoP; a proof is valid with its signer's
// thumbprint, or refused with a reason, counted and answered
// invalid_dpop_proof; only a proof some key signed gets past the check
// before the token lookup.
func FuzzDPoPHeaders(f *testing.F) {
	t0 := time.Date(2026, 12, 7, 10, 0, 0, 0, time.UTC)
	// One fixed key, the same in every fuzzing process.
	der, err := x509.MarshalPKCS8PrivateKey(ed25519.NewKeyFromSeed([]byte("sessionguard-fuzz-dpop-key-seed!")))
	if err != nil {
		f.Fatal(err)
	}
	k, err := dpop.ParseKey(base64.RawURLEncoding.EncodeToString(der))
	if err != nil {
		f.Fatal(err)
	}
	good, _ := k.Proof("GET", "https://sessions.example.com/v1/me", "sga_token", t0)
	for _, seed := range []struct {
		auth, proof, xfh string
		trusted          bool
	}{
		{"DPoP sga_token", good, "", false},
		{"Bearer sga_token", good, "sessions.example.com", true},
		{"bearer  sga_token ", good, "a, sessions.example.com", true},
		{"DPoP sga_other", good, "", false},
		{"DPoP", "", "", false},
		{"Basic x", "a.b.c", ", ", true},
		{"", strings.Replace(good, ".", "..", 1), "", false},
		{"DPoP sga_token", good[:len(good)-3], "x", true},
	} {
		f.Add(seed.auth, seed.proof, seed.xfh, seed.trusted)
	}
	s := &Server{metrics: newMetrics(), cfg: Config{}}
	trusting := &Server{metrics: s.metrics, cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}}
	f.Fuzz(func(t *testing.T, auth, proof, xfh string, trusted bool) {
		h := http.Header{}
		h.Set("Authorization", auth)
		h.Set("DPoP", proof)
		c, err := readCredentials(h)
		tok := ""
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) || ae.status != 401 || ae.code != api.CodeInvalidToken || ae.msg == "" {
				t.Fatalf("no token answered %v", err)
			}
		} else {
			tok = c.token
			scheme, _, _ := strings.Cut(auth, " ")
			if tok == "" || tok != strings.TrimSpace(tok) || !strings.EqualFold(scheme, "Bearer") && !strings.EqualFold(scheme, dpop.Scheme) {
				t.Fatalf("read %q as %+v", auth, c)
			}
			if len(c.proofs) != 1 || c.proofs[0] != proof {
				t.Fatalf("proofs %q, sent %q", c.proofs, proof)
			}
		}
		srv := s
		if trusted {
			srv = trusting
		}
		r := httptest.NewRequest("GET", "http://sessions.example.com/v1/me", nil)
		r.RemoteAddr = "127.0.0.1:" + strconv.Itoa(40000)
		if xfh != "" {
			r.Header.Set("X-Forwarded-Host", xfh)
		}
		if host := srv.requestHost(r); host == "" || host != strings.TrimSpace(host) {
			t.Fatalf("host %q from X-Forwarded-Host %q", host, xfh)
		}
		p := srv.checkProof(r, []string{proof}, tok, t0)
		if !p.present {
			t.Fatal("a proof sent is not present")
		}
		if p.err == nil {
			if p.checked.JKT == "" || p.signer != p.checked.JKT {
				t.Fatalf("valid proof with signer %q, checked %+v", p.signer, p.checked)
			}
			return
		}
		if p.err.Reason == nil {
			t.Fatalf("refused without a reason: %v", p.err)
		}
		if p.signer != "" && p.signer != k.Thumbprint() {
			// The only key the corpus holds is k; a signature by any
			// other would be a forgery.
			t.Fatalf("signer %q", p.signer)
		}
		if p.unsigned() != (p.signer == "") {
			t.Fatal("unsigned disagrees with signer")
		}
		e := srv.errProof(http.StatusUnauthorized, p.err)
		if e.code != api.CodeInvalidDPoPProof || e.msg == "" || e.header.Get("WWW-Authenticate") == "" {
			t.Fatalf("answered %+v", e)
		}
	})
}

// TestSessionSet: the memory of audited sessions holds what it was
// given, up to its size, then starts over.
func TestSessionSet(t *testing.T) {
	s := newSessionSet(3)
	for _, id := range []string{"a", "b", "c"} {
		s.add(id)
	}
	if !s.has("a") || !s.has("c") || s.has("d") {
		t.Fatal("set lost or invented a session")
	}
	s.add("d") // full: starts over
	if s.has("a") || !s.has("d") {
		t.Fatal("set did not start over at its size")
	}
}
