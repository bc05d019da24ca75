package server

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"
)

// statusWriter records the status code and keeps Flush working for streams.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// instrument turns an error-returning handler into an http.Handler that
// answers errors in the contract's shape, counts and times the request, and
// logs it without headers or bodies (so never a token or password).
func (s *Server) instrument(route string, h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		securityHeaders(sw.Header(), r)
		var err error
		if s.conns.crowded(requestShare) {
			// Near the connection limit: answer at once and free the
			// connection, rather than let the process run out of files.
			sw.Header().Set("Connection", "close")
			err = errBusy("The server has too many open connections. Try again in a moment.", 2*time.Second)
		} else {
			err = h(sw, r)
		}
		aborted := false
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				ae = storeErr(err)
			}
			aborted = r.Context().Err() != nil || errors.Is(err, context.Canceled)
			switch {
			case aborted && sw.status == 0:
				// The client went away: nobody reads an answer, and it is
				// not the server's failure.
				sw.status = statusClientClosed
			case sw.status == 0:
				writeError(sw, ae)
			default:
				sw.status = ae.status // already streaming; just record it
			}
			if ae.status >= 500 && !aborted {
				s.log.Error("request failed", "route", route, "status", ae.status, "err", err)
			}
		}
		d := time.Since(start)
		s.metrics.observe(route, sw.status, d)
		msg := "request"
		if aborted {
			msg = "request aborted by the client"
		}
		s.log.LogAttrs(context.WithoutCancel(r.Context()), slog.LevelInfo, msg,
			slog.String("route", route),
			slog.Int("status", sw.status),
			slog.Duration("took", d),
			slog.String("ip", ipString(s.clientIP(r))))
	})
}

// statusClientClosed is the status recorded (in logs and metrics, never
// sent) for a request whose client went away before the answer: nginx's
// 499.
const statusClientClosed = 499

// securityHeaders are on every answer: no content sniffing, and when the
// request came over TLS, HSTS, so a browser or client that has seen the
// server once never falls back to plain HTTP.
func securityHeaders(h http.Header, r *http.Request) {
	h.Set("X-Content-Type-Options", "nosniff")
	if r.TLS != nil {
		h.Set("Strict-Transport-Security", "max-age=63072000")
	}
}

// recoverer turns a panic into a 500 so one bad request cannot take the
// server down.
func (s *Server) recoverer(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.log.Error("panic", "route", r.Method+" "+r.URL.Path, "panic", v)
				writeError(w, storeErr(errors.New("panic")))
			}
		}()
		next.ServeHTTP(w, r)
	})
}
