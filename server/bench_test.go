package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/server"
	"sessionguard/server/passwd"
	"sessionguard/server/store"
)

// BenchmarkMe is an authenticated GET /v1/me through the whole handler
// (token hash, session read, checks, account read, JSON), without network.
func BenchmarkMe(b *testing.B) {
	e := newEnvSignedUp(b, "ana")
	l := e.login("ana", "Laptop", false)
	h := e.srv.Handler()
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b)()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest("GET", "/v1/me", nil)
		req.Header.Set("Authorization", "Bearer "+l.AccessToken)
		for pb.Next() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("status %d", w.Code)
			}
		}
	})
}

// reportCPU starts measuring the process's CPU time; the function it
// returns reports it per operation ("cpu-ns/op"): the cost of a request
// whatever else the machine runs, which ns/op (wall time) is not. Call it
// after the set-up and defer the result.
func reportCPU(b *testing.B) func() {
	start, ok := processCPU()
	return func() {
		if end, ok2 := processCPU(); ok && ok2 && b.N > 0 {
			b.ReportMetric(float64(end-start)/float64(b.N), "cpu-ns/op")
		}
	}
}

// BenchmarkMeBound is BenchmarkMe for a session bound to its device's
// key (issue 21): each request carries a fresh DPoP proof, checked
// (signature, claims) and remembered against replay. Making proofs is the
// client's work: they are made before the timer starts, one per request.
func BenchmarkMeBound(b *testing.B) {
	e := newEnvSignedUp(b, "ana")
	k := newKey(b)
	l := e.boundLogin("ana", "Laptop", k)
	proofs := boundProofs(b, e, k, "http://example.com/v1/me", l.AccessToken)
	h := e.srv.Handler()
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b)()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest("GET", "/v1/me", nil)
		req.Header.Set("Authorization", "DPoP "+l.AccessToken)
		for pb.Next() {
			req.Header.Set("DPoP", proofs[next.Add(1)-1])
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 {
				b.Fatalf("status %d: %s", w.Code, w.Body)
			}
		}
	})
}

// boundProofs makes b.N proofs by k for GET target with token, at the
// server's clock (which stands still).
func boundProofs(b *testing.B, e *env, k prover, target, token string) []string {
	b.Helper()
	proofs := make([]string, b.N)
	for i := range proofs {
		proofs[i] = e.proofAt(k, "GET", target, token, e.clock.Now())
	}
	return proofs
}

// BenchmarkMeHTTP is the same request over loopback HTTP with keep-alive.
func BenchmarkMeHTTP(b *testing.B) {
	e := newEnvSignedUp(b, "ana")
	l := e.login("ana", "Laptop", false)
	e.client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", e.http.URL+"/v1/me", nil)
			req.Header.Set("Authorization", "Bearer "+l.AccessToken)
			resp, err := e.client.Do(req)
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("%v %v", err, resp)
			}
			resp.Body.Close()
		}
	})
}

// BenchmarkMeBoundHTTP is BenchmarkMeBound over loopback HTTP with
// keep-alive.
func BenchmarkMeBoundHTTP(b *testing.B) {
	e := newEnvSignedUp(b, "ana")
	k := newKey(b)
	l := e.boundLogin("ana", "Laptop", k)
	proofs := boundProofs(b, e, k, e.http.URL+"/v1/me", l.AccessToken)
	e.client.Transport.(*http.Transport).MaxIdleConnsPerHost = 64
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			req, _ := http.NewRequest("GET", e.http.URL+"/v1/me", nil)
			req.Header.Set("Authorization", "DPoP "+l.AccessToken)
			req.Header.Set("DPoP", proofs[next.Add(1)-1])
			resp, err := e.client.Do(req)
			if err != nil || resp.StatusCode != 200 {
				b.Fatalf("%v %v", err, resp)
			}
			resp.Body.Close()
		}
	})
}

// BenchmarkLogin is a full sign-in with OWASP argon2id parameters: the
// cost of one POST /v1/login.
func BenchmarkLogin(b *testing.B) {
	owasp := passwd.OWASP
	e := newEnv(b, func(c *server.Config) { c.Password = &owasp })
	e.signUp("ana")
	h := e.srv.Handler()
	body := fmt.Sprintf(`{"username":"ana","password":%q,"device":{"id":"d1","name":"Laptop"}}`, testPassword)
	b.ResetTimer()
	for b.Loop() {
		req := httptest.NewRequest("POST", "/v1/login", stringsReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		if w.Code != 200 {
			b.Fatalf("status %d: %s", w.Code, w.Body)
		}
	}
}

// BenchmarkRevokeToEvent measures revoke → session.revoked received on the
// revoked device's open stream, over loopback HTTP.
func BenchmarkRevokeToEvent(b *testing.B) {
	e := newEnvSignedUp(b, "ana")
	self := e.login("ana", "Laptop", false)
	var worst time.Duration
	b.ResetTimer()
	for b.Loop() {
		b.StopTimer()
		other := e.login("ana", "Phone", false)
		s := e.stream(other.AccessToken)
		b.StartTimer()
		start := time.Now()
		e.do("DELETE", "/v1/sessions/"+other.Session.ID, self.AccessToken, nil).wantOK(b, 200, nil)
		for s.nextEvent(b).name != api.EventSessionRevoked {
		}
		worst = max(worst, time.Since(start))
		b.StopTimer()
		s.cancel()
		b.StartTimer()
	}
	b.ReportMetric(float64(worst.Microseconds()), "max-µs")
}

// BenchmarkListSessions lists an account's 1,000 sessions: one default page
// of 50, and all of them in pages of 200.
func BenchmarkListSessions(b *testing.B) {
	e := newEnvSignedUp(b, "ana")
	self := e.login("ana", "Laptop", false)
	seedSessions(b, e, self.Account.ID, 999)
	for _, tc := range []struct {
		name  string
		limit int
	}{{"page50", 50}, {"all1000", 200}} {
		b.Run(tc.name, func(b *testing.B) {
			h := e.srv.Handler()
			for b.Loop() {
				n, cursor := 0, ""
				for {
					url := fmt.Sprintf("/v1/sessions?limit=%d", tc.limit)
					if cursor != "" {
						url += "&cursor=" + cursor
					}
					req := httptest.NewRequest("GET", url, nil)
					req.Header.Set("Authorization", "Bearer "+self.AccessToken)
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != 200 {
						b.Fatalf("status %d", w.Code)
					}
					// Read only what paging needs, from the tail of the body:
					// the server's work is measured, not a client's decoding.
					body := w.Body.Bytes()
					n += bytes.Count(body, []byte(`"current":`))
					var p struct {
						NextCursor string `json:"next_cursor"`
					}
					tail := body[bytes.LastIndex(body, []byte(`"next_cursor"`)):]
					if err := json.Unmarshal(append([]byte("{"), tail...), &p); err != nil {
						b.Fatal(err)
					}
					if cursor = p.NextCursor; cursor == "" || tc.name == "page50" {
						break
					}
				}
				if tc.name == "all1000" && n != 1000 {
					b.Fatalf("listed %d sessions", n)
				}
			}
		})
	}
}

// seedSessions writes n live sessions straight into the store.
func seedSessions(b testing.TB, e *env, accountID string, n int) {
	now := e.clock.Now()
	for i := range n {
		at := now.Add(-time.Duration(i) * time.Minute)
		id := fmt.Sprintf("ses_seed%05d", i)
		s := store.Session{ID: id, AccountID: accountID,
			Device: api.Device{ID: fmt.Sprintf("dev-%d", i), Name: fmt.Sprintf("Device %d", i), Platform: api.PlatformAndroid},
			IP:     "203.0.113.1", CreatedAt: at, LastSeenAt: at, AuthTime: at,
			ExpiresAt: now.Add(time.Hour), AbsoluteExpiresAt: now.Add(time.Hour),
			AccessHash: []byte(id), AccessExpiresAt: now.Add(time.Hour)}
		rt := store.RefreshToken{Hash: []byte("r" + id), SessionID: id, IssuedAt: at, ExpiresAt: now.Add(time.Hour)}
		if err := e.store.CreateSession(context.Background(), s, rt); err != nil {
			b.Fatal(err)
		}
	}
}
