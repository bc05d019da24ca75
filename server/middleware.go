package server

import (
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
		err := h(sw, r)
		if err != nil {
			var ae *apiError
			if !errors.As(err, &ae) {
				ae = storeErr(err)
			}
			if sw.status == 0 {
				writeError(sw, ae)
			} else {
				sw.status = ae.status // already streaming; just record it
			}
			if ae.status >= 500 {
				s.log.Error("request failed", "route", route, "status", ae.status, "err", err)
			}
		}
		d := time.Since(start)
		s.metrics.observe(route, sw.status, d)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("route", route),
			slog.Int("status", sw.status),
			slog.Duration("took", d),
			slog.String("ip", ipString(s.clientIP(r))))
	})
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
