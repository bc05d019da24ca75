package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
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
