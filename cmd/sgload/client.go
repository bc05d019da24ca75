//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"sessionguard/api"
)

// newHTTPClient is a keep-alive client for up to conns parallel requests.
func newHTTPClient(conns int) *http.Client {
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			Proxy:               nil, // loopback only: never a proxy
			MaxIdleConns:        conns,
			MaxIdleConnsPerHost: conns,
			IdleConnTimeout:     time.Minute,
			DisableCompression:  true,
		},
	}
}

// call makes one API request with a bearer token and decodes a 2xx answer
// into out (if not nil). Any other status is an error quoting the body.
func call(ctx context.Context, c *http.Client, method, url, token string, body, out any) error {
	var h http.Header
	if token != "" {
		h = http.Header{"Authorization": {"Bearer " + token}}
	}
	return callWith(ctx, c, method, url, h, body, out)
}

// callWith is call with the request headers h (Authorization included).
func callWith(ctx context.Context, c *http.Client, method, url string, h http.Header, body, out any) error {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, url, rd)
	if err != nil {
		return err
	}
	for k, vs := range h {
		req.Header[k] = vs
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, trimURL(url), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("%s %s: status %d: %s", method, trimURL(url), resp.StatusCode, strings.TrimSpace(string(b)))
	}
	if out == nil {
		_, err = io.Copy(io.Discard, resp.Body)
		return err
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return fmt.Errorf("%s %s: decoding the answer: %w", method, trimURL(url), err)
	}
	return nil
}

// trimURL drops scheme and host from a request URL for messages.
func trimURL(u string) string {
	if i := strings.Index(u, "/v1/"); i >= 0 {
		return u[i:]
	}
	return u
}

// stream is one open GET /v1/events, read by its own goroutine.
type stream struct {
	sess seedSession
	conn net.Conn

	revoked   chan struct{} // closed when "event: session.revoked" arrives
	revokedAt time.Time     // when it arrived; written before revoked closes
	closed    chan struct{} // closed when the response has ended (or failed)
	readErr   error         // nil for a clean end; written before closed closes
	events    atomic.Int64  // events received, of any name

	// confirm, when not nil, sends the device's receipt with the closure
	// token of session.revoked (POST /v1/closures) as soon as the event's
	// data line is read, as a device that confirms at once does.
	confirm    func(closureToken string) error
	receipt    chan struct{} // closed when the receipt was answered (or could not be sent)
	receiptAt  time.Time     // when its 204 was read; written before receipt closes
	receiptErr error         // written before receipt closes
	once       sync.Once
}

// openStream connects, authenticates as sess and returns once the server
// has sent its ": connected" comment, that is once the stream is
// subscribed and cannot miss an event.
//
// confirm, when not nil, sends the receipt the moment session.revoked
// arrives (see stream.confirm).
func openStream(ctx context.Context, addr string, sess seedSession, timeout time.Duration, confirm func(closureToken string) error) (*stream, error) {
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("opening a stream: %w", err)
	}
	fail := func(err error) (*stream, error) {
		conn.Close()
		return nil, fmt.Errorf("opening the stream of %s: %w", sess.ID, err)
	}
	_ = conn.SetDeadline(time.Now().Add(timeout))
	req := "GET /v1/events HTTP/1.1\r\nHost: " + addr + "\r\nAuthorization: Bearer " + sess.Token +
		"\r\nAccept: text/event-stream\r\n\r\n"
	if _, err := io.WriteString(conn, req); err != nil {
		return fail(err)
	}
	br := bufio.NewReaderSize(conn, 1024)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return fail(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fail(fmt.Errorf("status %d (%s): %s", resp.StatusCode, resp.Header.Get("Content-Type"), strings.TrimSpace(string(b))))
	}
	body := bufio.NewReaderSize(resp.Body, 512)
	line, err := body.ReadString('\n')
	if err != nil {
		return fail(err)
	}
	if line != ": connected\n" {
		return fail(fmt.Errorf("first line %q, want \": connected\"", line))
	}
	_ = conn.SetDeadline(time.Time{})
	s := &stream{sess: sess, conn: conn, revoked: make(chan struct{}), closed: make(chan struct{}),
		confirm: confirm, receipt: make(chan struct{})}
	go s.read(body)
	return s, nil
}

func (s *stream) read(body *bufio.Reader) {
	defer close(s.closed)
	defer s.conn.Close()
	gotRevoked, wantData := false, false
	for {
		line, err := body.ReadSlice('\n')
		if err == bufio.ErrBufferFull {
			continue // a long data line; only event lines matter
		}
		if err != nil {
			if err != io.EOF {
				s.readErr = err
			}
			return
		}
		if wantData {
			if data, ok := bytes.CutPrefix(line, []byte("data: ")); ok {
				wantData = false
				go s.sendReceipt(closureTokenOf(data))
			}
		}
		name, ok := bytes.CutPrefix(line, []byte("event: "))
		if !ok {
			continue
		}
		s.events.Add(1)
		if !gotRevoked && string(bytes.TrimSpace(name)) == api.EventSessionRevoked {
			gotRevoked = true
			s.revokedAt = time.Now()
			close(s.revoked)
			wantData = s.confirm != nil
		}
	}
}

// closureTokenOf reads closure_token from session.revoked's JSON payload
// ("" when it has none).
func closureTokenOf(data []byte) string {
	var ev struct {
		ClosureToken string `json:"closure_token"`
	}
	_ = json.Unmarshal(data, &ev)
	return ev.ClosureToken
}

// sendReceipt confirms the closure with tok and records when the answer
// came.
func (s *stream) sendReceipt(tok string) {
	defer close(s.receipt)
	if tok == "" {
		s.receiptErr = errors.New("session.revoked carried no closure token")
		return
	}
	s.receiptErr = s.confirm(tok)
	s.receiptAt = time.Now()
}

// Close ends the stream from the client side.
func (s *stream) Close() {
	s.once.Do(func() { s.conn.Close() })
	<-s.closed
}

// isRevoked reports whether session.revoked arrived.
func (s *stream) isRevoked() bool { return isDone(s.revoked) }

// isClosed reports whether the response has ended.
func (s *stream) isClosed() bool { return isDone(s.closed) }

// isDone reports whether ch is closed, without waiting.
func isDone(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
