package client

import (
	"fmt"
	"net/http"
	"time"

	"sessionguard/api/dpop"
)

// Device-bound tokens (DESIGN "Device-bound tokens", RFC 9449): with a
// proof key (SetProofKey) every request carries a fresh DPoP proof signed
// by it, for its method and URL, and the access token goes as
// "Authorization: DPoP <token>" with the token's hash in the proof. A
// sign-in made so binds the new session to the key: its tokens are
// refused anywhere the key is not.

// SetProofKey makes every request from now on carry a DPoP proof signed
// by k: sign-ins (which then bind the new session to k), refreshes, the
// event stream (a fresh proof at each reconnect) and every authenticated
// call. nil sends none (plain Bearer tokens, unbound sign-ins). A session
// bound to a key works only while the Client holds that key.
func (c *Client) SetProofKey(k *dpop.Key) { c.proofKey.Store(k) }

// ProofKey returns the key SetProofKey set, nil when none.
func (c *Client) ProofKey() *dpop.Key { return c.proofKey.Load() }

// authorize sets the Authorization and DPoP headers of a request of
// method to path (below the base URL, without its query) that carries
// token ("" for none): with a proof key, a fresh proof, and the token
// under the DPoP scheme; without one, the token as a Bearer token. It
// returns the clock correction the proof was dated with (skew).
func (c *Client) authorize(set func(name, value string), method, path, token string) (time.Duration, error) {
	k := c.proofKey.Load()
	if k == nil {
		if token != "" {
			set("Authorization", "Bearer "+token)
		}
		return 0, nil
	}
	skew := c.skew()
	proof, err := k.Proof(method, c.base+path, token, c.now().Add(skew))
	if err != nil {
		return 0, fmt.Errorf("making the DPoP proof: %w", err)
	}
	set(dpop.Header, proof)
	if token != "" {
		set("Authorization", dpop.Scheme+" "+token)
	}
	return skew, nil
}

// skewMin is the least difference between the server's clock and this
// one that proofs are dated for: anything smaller is the Date header's
// one-second resolution, and far inside dpop.Window.
const skewMin = 5 * time.Second

// skew is how far the server's clock is ahead of this one, as its last
// answer told (noteDate): proofs are dated by the server's clock, since a
// device whose clock is minutes off (a phone set by hand) would otherwise
// have every proof refused as too old or too new.
func (c *Client) skew() time.Duration { return time.Duration(c.skewNS.Load()) }

// noteDate learns the server's clock from an answer's Date header.
func (c *Client) noteDate(h http.Header) {
	v := h.Get("Date")
	if v == "" {
		return
	}
	t, err := http.ParseTime(v)
	if err != nil {
		return
	}
	// Date is whole seconds: the server's clock was in [t, t+1s).
	d := t.Add(500 * time.Millisecond).Sub(c.now())
	if d > -skewMin && d < skewMin {
		d = 0
	}
	c.skewNS.Store(int64(d))
}

// redated reports whether the clock correction learned since a proof was
// dated with used differs enough that a proof made now would be dated
// otherwise: one refused as out of its time window is then worth making
// again.
func (c *Client) redated(used time.Duration) bool {
	d := c.skew() - used
	return d >= skewMin || d <= -skewMin
}
