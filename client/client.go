// Package client is Sessionguard's typed API client: the v1 calls over
// go-resty, typed errors, transparent token refresh, device-bound tokens
// (DPoP proofs, SetProofKey) and the live event stream.
package client

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-resty/resty/v2"

	"sessionguard/api"
	"sessionguard/api/dpop"
)

// DefaultTimeout bounds each call that is not an event stream.
const DefaultTimeout = 15 * time.Second

// maxReply is the largest reply body read for a normal call.
const maxReply = 4 << 20

// Option configures a Client in New.
type Option func(*options)

type options struct {
	httpClient  *http.Client
	timeout     time.Duration
	pollTimeout time.Duration
	userAgent   string
}

// WithHTTPClient makes the Client send through a copy of hc (its Transport,
// Jar and TLS settings). The copy's Timeout is ignored, so that event
// streams can stay open: use WithTimeout. Redirects are never followed.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) { o.httpClient = hc }
}

// WithTimeout bounds each call other than Events (default 15 s). For Events
// it bounds only the wait for the stream's response headers. d <= 0 keeps
// the default.
func WithTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// WithPollTimeout bounds each long-poll call (PollApproval, PollLink),
// which the server holds up to api.ApprovalPollWait (default: that plus
// the per-call timeout). d <= 0 keeps the default.
func WithPollTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.pollTimeout = d
		}
	}
}

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option {
	return func(o *options) { o.userAgent = ua }
}

// Client talks to one sessiond on behalf of one signed-in account at a time.
// It is safe for concurrent use.
type Client struct {
	base        string
	rc          *resty.Client
	hc          *http.Client
	timeout     time.Duration
	pollTimeout time.Duration // long-poll calls (PollApproval, PollLink)

	// Injectable in tests.
	now         func() time.Time
	backoffBase time.Duration       // first reconnect delay cap of Events
	backoffMax  time.Duration       // largest reconnect delay cap
	stableAfter time.Duration       // a stream up this long resets the backoff
	idleTimeout time.Duration       // a stream silent this long is reconnected
	onWait      func(time.Duration) // told each reconnect wait of Events (tests)

	wake        chan struct{} // Reconnect: Events stops waiting
	lastContact atomic.Int64  // UnixNano of the server's last good answer (LastContact)

	proofKey atomic.Pointer[dpop.Key] // SetProofKey; nil: no proofs
	skewNS   atomic.Int64             // the server's clock minus c.now, for proofs (noteDate)

	mu       sync.Mutex
	tokens   api.Tokens
	gen      uint64 // changes on SetTokens and ClearTokens
	flight   *refreshFlight
	onRotate func(api.Tokens)
	// bornExpired is an access token that was already expired by the client
	// clock when a refresh delivered it: the clock is off, so expiry is left
	// to the server (401 token_expired) instead of refreshing on every call.
	bornExpired string
}

// New returns a Client for the server at baseURL, such as
// "https://sessions.example.org" or "http://127.0.0.1:8420". A path prefix
// is kept. Plain http:// is refused with ErrInsecureServer unless the host
// is loopback (127.0.0.0/8, ::1 or "localhost"); an address that is not an
// http(s) URL of a host is refused with ErrInvalidURL.
func New(baseURL string, opts ...Option) (*Client, error) {
	base, err := checkBaseURL(baseURL)
	if err != nil {
		return nil, err
	}
	o := options{timeout: DefaultTimeout, userAgent: "sessionguard-client/1"}
	for _, opt := range opts {
		opt(&o)
	}
	hc := &http.Client{}
	if o.httpClient != nil {
		cp := *o.httpClient
		hc = &cp
	}
	hc.Timeout = 0
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	rc := resty.NewWithClient(hc) // sets a Transport when hc has none
	rc.SetBaseURL(base).
		SetLogger(quietLogger{}).
		SetDisableWarn(true).
		SetRetryCount(0).
		SetResponseBodyLimit(maxReply).
		SetHeader("User-Agent", o.userAgent).
		SetHeader("Accept", "application/json")
	if o.pollTimeout <= 0 {
		o.pollTimeout = api.ApprovalPollWait + o.timeout
	}
	return &Client{
		base: base, rc: rc, hc: hc, timeout: o.timeout, pollTimeout: o.pollTimeout,
		now:         time.Now,
		backoffBase: reconnectBase,
		backoffMax:  ReconnectMax,
		wake:        make(chan struct{}, 1),
		stableAfter: 30 * time.Second,
		idleTimeout: 60 * time.Second, // the server sends a comment every 15 s
	}, nil
}

// LastContact is when the server last answered a call successfully or
// sent something on the event stream; zero before that. It says how fresh
// what the app shows is while the server cannot be reached.
func (c *Client) LastContact() time.Time {
	n := c.lastContact.Load()
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// touch notes that the server was just heard from.
func (c *Client) touch() { c.lastContact.Store(c.now().UnixNano()) }

// BaseURL returns the server address the Client was made for, without a
// trailing slash.
func (c *Client) BaseURL() string { return c.base }

// CloseIdleConnections closes kept-alive connections that are not in use.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

func checkBaseURL(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	refuse := func(reason string) (string, error) {
		return "", &AddressError{Address: raw, Reason: reason, Suggestion: suggestAddress(raw), err: ErrInvalidURL}
	}
	if raw == "" {
		return refuse("the address is empty")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return refuse("it is not a URL")
	}
	u.Scheme = strings.ToLower(u.Scheme)
	if u.Scheme != "http" && u.Scheme != "https" {
		return refuse("it must start with https://")
	}
	if u.Opaque != "" || u.Hostname() == "" || u.User != nil || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" {
		return refuse("use the form https://host[:port][/path]")
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return refuse("the port must be 1 to 65535")
		}
	}
	if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		u.Scheme = "https"
		return "", &AddressError{Address: raw, Reason: "plain http:// is only allowed for a server on this machine",
			Suggestion: u.String(), err: ErrInsecureServer}
	}
	u.Host = strings.ToLower(u.Host)
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	return u.String(), nil
}

// suggestAddress is the address the person probably meant by raw, which
// was refused: raw with https:// in front when it has no scheme and that
// makes a good address ("sessions.example.com:8443"), http:// for a
// server on this machine ("localhost:8420"); else "".
func suggestAddress(raw string) string {
	if raw == "" || strings.Contains(raw, "://") {
		return ""
	}
	for _, scheme := range []string{"https://", "http://"} {
		if s, err := checkBaseURL(scheme + raw); err == nil {
			if u, _ := url.Parse(s); scheme == "http://" || !isLoopback(u.Hostname()) {
				return s
			}
		}
	}
	return ""
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	a, err := netip.ParseAddr(host)
	return err == nil && a.Unmap().IsLoopback()
}

// quietLogger drops resty's log lines: nothing about requests is logged.
type quietLogger struct{}

func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Debugf(string, ...any) {}

// call is one JSON request.
type call struct {
	method, path string
	query        url.Values
	body         any // nil: no body
	out          any // nil: the reply body is ignored
	token        string
	timeout      time.Duration // 0: the Client's per-call timeout
	status       *int          // when set, told the status of a 2xx reply
}

// send performs k, with the per-call timeout. With a proof key, a proof
// the server refused as out of its time window is made once more when
// the server's answer corrected the clock proofs are dated by.
func (c *Client) send(ctx context.Context, k call) error {
	err := c.sendOnce(ctx, k)
	if c.retryProof(err) {
		err = c.sendOnce(ctx, k)
	}
	return err
}

// retryProof reports whether a call that failed with err is worth making
// again with a fresh proof: the proof was refused, and the server's
// answers have since moved the clock proofs are dated by (redated).
func (c *Client) retryProof(err error) bool {
	e, ok := errors.AsType[*Error](err)
	return ok && e.redated
}

// sendOnce performs k once.
func (c *Client) sendOnce(ctx context.Context, k call) error {
	timeout := c.timeout
	if k.timeout > 0 {
		timeout = k.timeout
	}
	cctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req := c.rc.R().SetContext(cctx)
	if IsBackground(ctx) {
		req.SetHeader(api.HeaderBackground, "1")
	}
	if k.body != nil {
		req.SetHeader("Content-Type", "application/json").SetBody(k.body)
	}
	skew, err := c.authorize(func(n, v string) { req.SetHeader(n, v) }, k.method, k.path, k.token)
	if err != nil {
		return err
	}
	if len(k.query) > 0 {
		req.SetQueryParamsFromValues(k.query)
	}
	resp, err := req.Execute(k.method, k.path)
	if errors.Is(err, resty.ErrResponseBodyTooLarge) {
		return unexpected(resp.StatusCode())
	}
	if err != nil {
		return transportError(ctx, err)
	}
	c.noteDate(resp.Header())
	if resp.IsError() {
		e := parseError(resp.StatusCode(), resp.Header(), resp.Body())
		e.redated = e.Code == api.CodeInvalidDPoPProof && c.redated(skew)
		return e
	}
	if k.status != nil {
		*k.status = resp.StatusCode()
	}
	if err := decodeReply(resp.StatusCode(), resp.Body(), k.out); err != nil {
		return err
	}
	c.touch()
	return nil
}

// decodeReply decodes a reply that is not an error into out.
func decodeReply(status int, body []byte, out any) error {
	if status < 200 || status > 299 {
		return unexpected(status)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return unexpected(status)
	}
	return nil
}

// backgroundKey marks a context as the app's own work (Background).
type backgroundKey struct{}

// Background marks ctx's calls as made by the app itself, not the person
// (a list reloaded after an event): the server does not count them as use
// of the session for its inactivity rules (api.HeaderBackground). A token
// refresh such a call needs is marked too.
func Background(ctx context.Context) context.Context {
	return context.WithValue(ctx, backgroundKey{}, true)
}

// IsBackground reports whether ctx was marked by Background.
func IsBackground(ctx context.Context) bool {
	b, _ := ctx.Value(backgroundKey{}).(bool)
	return b
}
