//go:build js

package client

import (
	"syscall/js"

	"sessionguard/api"
)

// LogoutOnExit ends this session as the web page goes away (its tab
// closes or reloads), without waiting: POST /v1/logout goes out through
// the browser's fetch with keepalive, which outlives the page, while Go's
// own requests would die with it. It forgets the tokens either way and
// reports whether there was a session to end. The server may refuse an
// access token that expired meanwhile; the session then ends by its
// inactivity rule, as a closed desktop app's would. With a proof key
// (SetProofKey) the request carries its proof, as every request does.
func (c *Client) LogoutOnExit() bool {
	c.mu.Lock()
	tok := c.tokens.AccessToken
	c.tokens = api.Tokens{}
	c.gen++
	c.mu.Unlock()
	if tok == "" {
		return false
	}
	headers := map[string]any{"Content-Type": "application/json", "Accept": "application/json"}
	// With a proof key, the proof goes too (a bound session's token is
	// refused without it); failing to make one, the session ends by its
	// inactivity rule, as above.
	if _, err := c.authorize(func(n, v string) { headers[n] = v }, "POST", "/v1/logout", tok); err != nil {
		return true
	}
	init := map[string]any{"method": "POST", "keepalive": true, "credentials": "omit", "cache": "no-store",
		"headers": headers, "body": `{"remember":false}`}
	p := js.Global().Call("fetch", c.base+"/v1/logout", init)
	var ignore js.Func // the answer comes after the page is gone
	ignore = js.FuncOf(func(js.Value, []js.Value) any { ignore.Release(); return nil })
	p.Call("then", ignore, ignore)
	return true
}
