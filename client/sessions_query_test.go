package client

import (
	"context"
	"net/http"
	"net/url"
	"sync"
	"testing"
)

// TestSessionsQuery: the search of the device list goes to the server as
// q, with limit and cursor as for Sessions, and only when there is one.
func TestSessionsQuery(t *testing.T) {
	ctx := context.Background()
	ts := newTestServer(t)
	c := newClient(t, ts.URL())
	signUp(t, c, "alice")
	signIn(t, c, "alice", "Alice Laptop", false)
	signIn(t, newClient(t, ts.URL()), "alice", "Kitchen iPad", false)

	var (
		mu   sync.Mutex
		last url.Values
	)
	ts.setHook(func(r *http.Request) {
		if r.URL.Path == "/v1/sessions" {
			mu.Lock()
			last = r.URL.Query()
			mu.Unlock()
		}
	})
	first, err := c.Sessions(ctx, 1, "")
	if err != nil || first.NextCursor == "" {
		t.Fatalf("Sessions(1) = %+v, %v; want a next page", first, err)
	}
	tests := []struct {
		name   string
		q      string
		limit  int
		cursor string
		want   url.Values
	}{
		{"no search", "", 200, "", url.Values{"limit": {"200"}}},
		{"search", "ipad", 50, "", url.Values{"q": {"ipad"}, "limit": {"50"}}},
		{"search, server's page size", "Kitchen iPad", 0, "", url.Values{"q": {"Kitchen iPad"}}},
		{"characters to escape", "a&b=c d%/é", 10, "", url.Values{"q": {"a&b=c d%/é"}, "limit": {"10"}}},
		{"next page", "", 1, first.NextCursor, url.Values{"limit": {"1"}, "cursor": {first.NextCursor}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := c.SessionsQuery(ctx, tt.q, tt.limit, tt.cursor); err != nil {
				t.Fatalf("SessionsQuery: %v", err)
			}
			mu.Lock()
			got := last
			mu.Unlock()
			if got.Encode() != tt.want.Encode() {
				t.Fatalf("query sent %q, want %q", got.Encode(), tt.want.Encode())
			}
		})
	}

	// A server that searches (it counts the matches too) lists the iPad
	// alone for "ipad".
	page, err := c.SessionsQuery(ctx, "ipad", 0, "")
	if err != nil {
		t.Fatal(err)
	}
	if page.Counts == nil {
		t.Skip("this server does not search yet (no counts)")
	}
	if len(page.Sessions) != 1 || page.Sessions[0].Device.Name != "Kitchen iPad" || page.Counts.Total != 1 {
		t.Fatalf(`SessionsQuery("ipad") = %+v, counts %+v`, page.Sessions, *page.Counts)
	}
}
