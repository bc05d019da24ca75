package server

import (
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"sessionguard/api"
)

// Shares of GuardListener's maximum at which the server starts turning
// work away, so that it never reaches the process's file limit (where
// accept fails and every client hangs): event streams, which stay open,
// are refused first; then every request is answered 503 and its
// connection closed; at the maximum itself new connections are closed
// unanswered.
const (
	streamShare  = 0.75
	requestShare = 0.94
)

// connCounter counts the connections a guarded listener has open. A nil
// counter (no guard) is never crowded.
type connCounter struct {
	open atomic.Int64
	max  int64
}

// crowded reports whether more than share of the maximum is in use.
func (c *connCounter) crowded(share float64) bool {
	return c != nil && float64(c.open.Load()) > share*float64(c.max)
}

// OpenConnections returns how many connections the listener GuardListener
// wrapped has open (0 without one).
func (s *Server) OpenConnections() int {
	if s.conns == nil {
		return 0
	}
	return int(s.conns.open.Load())
}

// GuardListener wraps ln so that at most max connections are open at once,
// and makes the server shed load well before that: event streams are
// refused with 503 past 75 % of max, every request is answered 503 (and its
// connection closed) past 94 %, and connections beyond max are closed as
// soon as they are accepted. Set max below the process's file limit, with
// room for the database's files (sessiond serve uses the limit minus 64).
// Wrap the plain TCP listener, under any TLS one. Call it once, before
// serving.
func (s *Server) GuardListener(ln net.Listener, max int) net.Listener {
	c := &connCounter{max: int64(max)}
	s.conns = c
	return &guardedListener{Listener: ln, c: c, refused: s.metrics.connsRefused}
}

type guardedListener struct {
	net.Listener
	c       *connCounter
	refused interface{ Inc() }
}

func (l *guardedListener) Accept() (net.Conn, error) {
	for {
		conn, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if l.c.open.Load() >= l.c.max {
			_ = conn.Close()
			l.refused.Inc()
			continue
		}
		l.c.open.Add(1)
		return &countedConn{Conn: conn, c: l.c}, nil
	}
}

// countedConn gives its slot back when closed (once, however often Close
// is called; hijacked event streams close it too).
type countedConn struct {
	net.Conn
	c    *connCounter
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.c.open.Add(-1) })
	return c.Conn.Close()
}

// bareConn is the connection a countedConn wraps (conn itself otherwise),
// for reads, writes and deadlines; Close must still go to conn.
func bareConn(conn net.Conn) net.Conn {
	if c, ok := conn.(*countedConn); ok {
		return c.Conn
	}
	return conn
}

// errBusy is a 503 unavailable with a Retry-After.
func errBusy(msg string, retry time.Duration) *apiError {
	h := http.Header{}
	h.Set("Retry-After", strconv.Itoa(max(1, int(retry/time.Second))))
	return &apiError{status: http.StatusServiceUnavailable, code: api.CodeUnavailable, msg: msg, header: h}
}

// errTooManyStreams refuses an event stream past the account's cap.
func errTooManyStreams(limit int) *apiError {
	e := errRateLimited(time.Minute)
	e.msg = "This account has " + strconv.Itoa(limit) + " live-update connections open already. Close some devices' apps, or try again in a minute."
	return e
}
