package client

import (
	"context"
	"errors"
	"fmt"

	"sessionguard/api"
)

// SetTokens makes t the signed-in account's tokens, typically after a Login
// (api.Login.Tokens). A pair with only RefreshToken set (restored from the
// keyring) is fine: the first call refreshes it. It clears nothing else.
func (c *Client) SetTokens(t api.Tokens) {
	c.mu.Lock()
	c.tokens = t
	c.gen++
	c.mu.Unlock()
}

// Tokens returns the tokens the Client holds, the zero value when signed out.
func (c *Client) Tokens() api.Tokens {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tokens
}

// ClearTokens forgets the held tokens. A refresh that is in flight is
// discarded when it completes.
func (c *Client) ClearTokens() {
	c.mu.Lock()
	c.tokens = api.Tokens{}
	c.gen++
	c.mu.Unlock()
}

// OnRotate registers fn to receive the new pair after every successful
// refresh, before the new tokens are installed or used for anything, so the
// caller can persist the rotated refresh token first: a crash can never
// leave only a dead refresh token saved. fn runs on the refreshing
// goroutine and must not block for long; it may call Tokens. nil removes it.
func (c *Client) OnRotate(fn func(api.Tokens)) {
	c.mu.Lock()
	c.onRotate = fn
	c.mu.Unlock()
}

// Refresh exchanges the held refresh token for a new pair, installs it and
// returns it (after OnRotate). Concurrent refreshes share one request.
func (c *Client) Refresh(ctx context.Context) (api.Tokens, error) {
	return c.refresh(ctx, held{}, refreshAlways)
}

// held is a snapshot of the Client's tokens.
type held struct {
	t        api.Tokens
	gen      uint64
	clockOff bool // the access token came expired by the client clock
}

func (c *Client) snapshot() held {
	c.mu.Lock()
	defer c.mu.Unlock()
	return held{t: c.tokens, gen: c.gen, clockOff: c.tokens.AccessToken != "" && c.tokens.AccessToken == c.bornExpired}
}

// refreshFlight is one POST /v1/token/refresh shared by its callers.
type refreshFlight struct {
	done chan struct{}
	t    api.Tokens
	err  error
}

// errReplaced is returned when the tokens were cleared or replaced while a
// call was refreshing them.
var errReplaced = fmt.Errorf("%w: the account was signed out during the call", ErrNotSignedIn)

// refreshMode says when refresh sends a request.
type refreshMode int

const (
	// refreshAlways refreshes (or joins the refresh in flight).
	refreshAlways refreshMode = iota
	// refreshStale refreshes unless the held tokens are already newer than
	// the caller's snapshot, which it then returns.
	refreshStale
	// newerOnly never starts a refresh: it returns the held tokens if they
	// (or the refresh in flight) are newer than the snapshot, else
	// errNotNewer.
	newerOnly
)

// errNotNewer is refresh's answer in newerOnly mode when nothing is newer.
var errNotNewer = errors.New("no newer tokens")

// refresh returns fresh tokens. All callers share one in-flight request.
// The request runs detached from ctx: once sent, its answer is installed
// even when every caller has given up, because the server has rotated the
// refresh token and the old one will soon count as stolen. Only tokens
// cleared or replaced meanwhile (ClearTokens, SetTokens) make it drop the
// answer (errReplaced).
func (c *Client) refresh(ctx context.Context, from held, mode refreshMode) (api.Tokens, error) {
	c.mu.Lock()
	if mode != refreshAlways {
		if c.gen != from.gen {
			c.mu.Unlock()
			return api.Tokens{}, errReplaced
		}
		if c.flight == nil && c.tokens.AccessToken != "" && c.tokens.AccessToken != from.t.AccessToken {
			t := c.tokens
			c.mu.Unlock()
			return t, nil
		}
	}
	f := c.flight
	if f == nil {
		if mode == newerOnly {
			c.mu.Unlock()
			return api.Tokens{}, errNotNewer
		}
		if c.tokens.RefreshToken == "" {
			c.mu.Unlock()
			return api.Tokens{}, ErrNotSignedIn
		}
		f = &refreshFlight{done: make(chan struct{})}
		c.flight = f
		go c.runRefresh(context.WithoutCancel(ctx), f, c.tokens.RefreshToken, c.gen)
	}
	c.mu.Unlock()
	select {
	case <-f.done:
		return f.t, f.err
	case <-ctx.Done():
		return api.Tokens{}, ctx.Err()
	}
}

func (c *Client) runRefresh(ctx context.Context, f *refreshFlight, refreshToken string, gen uint64) {
	var t api.Tokens
	err := c.send(ctx, call{method: "POST", path: "/v1/token/refresh",
		body: api.RefreshRequest{RefreshToken: refreshToken}, out: &t})
	if err == nil && (t.AccessToken == "" || t.RefreshToken == "") {
		err = unexpected(200)
	}
	if err == nil {
		c.mu.Lock()
		fn, current := c.onRotate, c.gen == gen
		c.mu.Unlock()
		if !current {
			err = errReplaced
		} else if fn != nil {
			fn(t)
		}
	}
	c.mu.Lock()
	if err == nil && c.gen != gen {
		err = errReplaced
	}
	if err == nil {
		c.tokens = t
		if !c.now().Before(t.AccessExpiresAt) {
			c.bornExpired = t.AccessToken
		}
	} else {
		t = api.Tokens{}
	}
	c.flight = nil
	f.t, f.err = t, err
	c.mu.Unlock()
	close(f.done)
}

// accessToken returns an access token to send, refreshing first when there
// is none or the client clock says it has expired (unless that clock proved
// wrong: a refresh gave a token it already deemed expired).
func (c *Client) accessToken(ctx context.Context, h held) (string, held, error) {
	t := h.t
	if t.AccessToken == "" && t.RefreshToken == "" {
		return "", h, ErrNotSignedIn
	}
	expired := !h.clockOff && !t.AccessExpiresAt.IsZero() && !c.now().Before(t.AccessExpiresAt)
	if t.RefreshToken != "" && (t.AccessToken == "" || expired) {
		nt, err := c.refresh(ctx, h, refreshStale)
		if err != nil {
			return "", h, err
		}
		h.t = nt
	}
	return h.t.AccessToken, h, nil
}

// withToken runs do with an access token (refreshed first if it has
// expired by the client clock) and retries it once:
//   - after a refresh, on 401 token_expired;
//   - with the newer token, on 401 invalid_token when another call rotated
//     the tokens while this one was under way (the server forgets the old
//     access token at once).
//
// A refusal for want of the session's key (ErrDPoP) is not retried: no
// token of the session works without it.
func (c *Client) withToken(ctx context.Context, do func(token string) error) error {
	tok, h, err := c.accessToken(ctx, c.snapshot())
	if err != nil {
		return err
	}
	err = do(tok)
	mode := newerOnly
	switch {
	case isCode(err, api.CodeTokenExpired) && h.t.RefreshToken != "":
		mode = refreshStale
	case isCode(err, api.CodeInvalidToken) && !errors.Is(err, ErrDPoP):
	default:
		return err
	}
	nt, rerr := c.refresh(ctx, h, mode)
	if errors.Is(rerr, errNotNewer) {
		return err
	}
	if rerr != nil {
		return rerr
	}
	return do(nt.AccessToken)
}

// authed performs an authenticated call (see withToken).
func (c *Client) authed(ctx context.Context, k call) error {
	return c.withToken(ctx, func(tok string) error {
		k.token = tok
		return c.send(ctx, k)
	})
}
