package client

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"sessionguard/api"
)

// TestClosureFromEvent: a device following its stream is logged out with
// erase; Events returns an *Error whose Closure gives erase and the token,
// as the event does; ConfirmClosure sends the receipt once; the revoker
// sees it in EndedSessions.
func TestClosureFromEvent(t *testing.T) {
	ctx := context.Background()
	ts, laptop, _ := signedIn(t, "ana", "Laptop", true)
	phone := newClient(t, ts.URL())
	p := signIn(t, phone, "ana", "Phone", true)

	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	connected := make(chan struct{}, 1)
	var got api.SessionRevokedEvent
	done := make(chan error, 1)
	go func() {
		done <- phone.Events(sctx, func(ev Event) {
			if ev.Name == api.EventSessionRevoked {
				_ = ev.Decode(&got)
			}
		}, func(s StreamState, _ error) {
			if s == Connected {
				select {
				case connected <- struct{}{}:
				default:
				}
			}
		})
	}()
	<-connected
	s, err := laptop.RevokeSessionErasing(ctx, p.Session.ID, true)
	if err != nil || s.Closure == nil || s.Closure.State != api.ClosurePending || !s.Closure.EraseRequested {
		t.Fatalf("RevokeSessionErasing = %+v (closure %+v), %v", s, s.Closure, err)
	}
	err = <-done
	e := wantCode(t, err, 401, api.CodeSessionRevoked, ErrSessionRevoked)
	tok, erase := e.Closure()
	if !erase || tok == "" || tok != got.ClosureToken || !got.Erase {
		t.Fatalf("Closure() = %q, %v; event %+v", tok, erase, got)
	}
	if err := phone.ConfirmClosure(ctx, tok, true); err != nil {
		t.Fatalf("ConfirmClosure: %v", err)
	}
	wantCode(t, phone.ConfirmClosure(ctx, tok, true), 401, api.CodeInvalidToken, ErrInvalidToken)
	if err := phone.ConfirmClosure(ctx, "", true); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("ConfirmClosure(\"\") = %v, want ErrInvalidRequest", err)
	}

	page, err := laptop.EndedSessions(ctx, "")
	if err != nil || len(page.Sessions) != 1 || page.NextCursor != "" {
		t.Fatalf("EndedSessions = %+v, %v", page, err)
	}
	c := page.Sessions[0].Closure
	if page.Sessions[0].ID != p.Session.ID || c == nil || c.State != api.ClosureConfirmed || !c.Erased || c.ConfirmedAt == nil {
		t.Fatalf("ended session = %+v, closure %+v", page.Sessions[0], c)
	}
}

// TestClosureFromLaterCall: a device that was offline learns its closure
// token from the 401 of its next call; RevokeOthersErasing and paging
// through EndedSessionsPage.
func TestClosureFromLaterCall(t *testing.T) {
	ctx := context.Background()
	ts, laptop, _ := signedIn(t, "ana", "Laptop", true)
	var devices []*Client
	for _, n := range []string{"Phone", "Tablet", "Work PC"} {
		d := newClient(t, ts.URL())
		signIn(t, d, "ana", n, true)
		devices = append(devices, d)
	}
	n, err := laptop.RevokeOthersErasing(ctx, true)
	if err != nil || n != 3 {
		t.Fatalf("RevokeOthersErasing = %d, %v", n, err)
	}
	for i, d := range devices {
		_, err := d.Me(ctx)
		e := wantCode(t, err, 401, api.CodeSessionRevoked, ErrSessionRevoked)
		tok, erase := e.Closure()
		if tok == "" || !erase {
			t.Fatalf("device %d: Closure() = %q, %v", i, tok, erase)
		}
		if err := d.ConfirmClosure(ctx, tok, i%2 == 0); err != nil {
			t.Fatalf("device %d: ConfirmClosure: %v", i, err)
		}
	}
	var all []api.Session
	cursor := ""
	for range 5 {
		page, err := laptop.EndedSessionsPage(ctx, 2, cursor)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, page.Sessions...)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if len(all) != 3 {
		t.Fatalf("EndedSessionsPage walked %d sessions, want 3", len(all))
	}
	for _, s := range all {
		if s.Closure == nil || s.Closure.State != api.ClosureConfirmed || !s.Closure.EraseRequested || s.RevokeReason != api.ReasonLogoutOthers {
			t.Errorf("ended session %+v, closure %+v", s, s.Closure)
		}
	}
	// Without erase: no erase parameter at all.
	var (
		mu    sync.Mutex
		query string
	)
	ts.setHook(func(r *http.Request) {
		if r.Method == "DELETE" {
			mu.Lock()
			query = r.URL.RawQuery
			mu.Unlock()
		}
	})
	other := newClient(t, ts.URL())
	o := signIn(t, other, "ana", "TV", false)
	if _, err := laptop.RevokeSessionErasing(ctx, o.Session.ID, false); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	if query != "" {
		t.Errorf("RevokeSessionErasing(false) sent query %q, want none", query)
	}
	mu.Unlock()
	_, err = other.Me(ctx)
	e := wantCode(t, err, 401, api.CodeSessionRevoked, ErrSessionRevoked)
	if tok, erase := e.Closure(); tok == "" || erase {
		t.Errorf("without erase: Closure() = %q, %v", tok, erase)
	}
}

// TestClosureOfOtherErrors: Closure is empty on errors that are not
// session_revoked, and on a nil *Error.
func TestClosureOfOtherErrors(t *testing.T) {
	for _, e := range []*Error{nil, {Code: api.CodeInvalidToken, Details: map[string]any{api.DetailClosureToken: "sgc_x", api.DetailErase: true}},
		{Code: api.CodeSessionRevoked}} {
		if tok, erase := e.Closure(); tok != "" || erase {
			t.Errorf("%+v: Closure() = %q, %v", e, tok, erase)
		}
	}
	e := parseError(401, nil, []byte(`{"error":{"code":"session_revoked","message":"m","details":{"reason":"remote_logout","erase":true,"closure_token":"sgc_abc"}}}`))
	if tok, erase := e.Closure(); tok != "sgc_abc" || !erase || !strings.HasPrefix(e.Error(), "m") {
		t.Errorf("parsed 401: Closure() = %q, %v", tok, erase)
	}
}
