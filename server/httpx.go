package server

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"sessionguard/api"
	"sessionguard/server/store"
)

// maxBody is the largest request body sessiond reads.
const maxBody = 16 << 10

// Page sizes for list endpoints.
const (
	defaultLimit = 50
	maxLimit     = 200
)

// apiError is an error answered with the contract's error body.
type apiError struct {
	status  int
	code    string
	msg     string
	details map[string]any
	header  http.Header
	cause   error // logged, never sent
}

func (e *apiError) Error() string {
	if e.cause != nil {
		return e.code + ": " + e.msg + ": " + e.cause.Error()
	}
	return e.code + ": " + e.msg
}

func (e *apiError) Unwrap() error { return e.cause }

func errInvalid(field, msg string) *apiError {
	d := map[string]any{}
	if field != "" {
		d[api.DetailField] = field
	}
	return &apiError{status: http.StatusBadRequest, code: api.CodeInvalidRequest, msg: msg, details: d}
}

func errNotFound(msg string) *apiError {
	return &apiError{status: http.StatusNotFound, code: api.CodeNotFound, msg: msg}
}

func errInvalidCredentials(msg string) *apiError {
	return &apiError{status: http.StatusUnauthorized, code: api.CodeInvalidCredentials, msg: msg}
}

func errInvalidToken() *apiError {
	return &apiError{status: http.StatusUnauthorized, code: api.CodeInvalidToken, msg: "The token is not valid. Sign in again."}
}

// errStreamsUnavailable refuses an event stream while the replica bus is
// down.
func errStreamsUnavailable(cause error) *apiError {
	return &apiError{status: http.StatusServiceUnavailable, code: api.CodeUnavailable,
		msg: "Live updates are reconnecting to the account database. Try again in a moment.", cause: cause}
}

func errUnavailable(cause error) *apiError {
	return &apiError{status: http.StatusServiceUnavailable, code: api.CodeUnavailable,
		msg: "The account database is unavailable. Try again in a moment.", cause: cause}
}

func errRateLimited(wait time.Duration) *apiError {
	secs := int((wait + time.Second - 1) / time.Second)
	if secs < 1 {
		secs = 1
	}
	h := http.Header{}
	h.Set("Retry-After", strconv.Itoa(secs))
	return &apiError{status: http.StatusTooManyRequests, code: api.CodeRateLimited,
		msg:     fmt.Sprintf("Too many failed attempts. Try again in %s.", humanWait(secs)),
		details: map[string]any{api.DetailRetryAfterS: secs}, header: h}
}

func humanWait(secs int) string {
	switch {
	case secs < 60:
		return plural(secs, "second")
	case secs < 3600:
		return plural((secs+59)/60, "minute")
	default:
		return plural((secs+3599)/3600, "hour")
	}
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return strconv.Itoa(n) + " " + unit + "s"
}

func errSessionRevoked(s store.Session) *apiError {
	r := s.Revoked
	d := map[string]any{
		api.DetailReason:       r.Reason,
		api.DetailRevokedAt:    r.At.UTC().Format(time.RFC3339),
		api.DetailByDeviceName: r.ByDeviceName,
		api.DetailErase:        r.Erase,
	}
	msg := "This session was logged out."
	switch {
	case r.Reason == api.ReasonReauthFailed:
		msg = "This session was logged out after too many wrong passwords or codes in a row."
	case r.Reason == api.ReasonInactive:
		msg = "This session was logged out after going unused for too long."
		if rule, _ := s.IdleRule(); rule > 0 {
			msg = "This session was logged out after " + ruleText(rule) + " unused."
		}
	case r.ByDeviceName != "" && r.Reason != api.ReasonLogout:
		msg = "This session was logged out by " + r.ByDeviceName + "."
	}
	return &apiError{status: http.StatusUnauthorized, code: api.CodeSessionRevoked, msg: msg, details: d}
}

// storeErr maps an unexpected store error to 503 or 500.
func storeErr(err error) *apiError {
	if errors.Is(err, store.ErrUnavailable) {
		return errUnavailable(err)
	}
	return &apiError{status: http.StatusInternalServerError, code: api.CodeInternal,
		msg: "Something went wrong on the server.", cause: err}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, e *apiError) {
	for k, vs := range e.header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	writeJSON(w, e.status, api.ErrorBody{Error: api.ErrorDetail{Code: e.code, Message: e.msg, Details: e.details}})
}

// withBody adapts the handler of a call that takes a JSON request body:
// it reads the body into a T (decodeJSON; an empty body is refused) and
// hands it over.
func withBody[T any](h func(http.ResponseWriter, *http.Request, T) error) func(http.ResponseWriter, *http.Request) error {
	return decoded(false, h)
}

// withOptionalBody is withBody for a call whose body may be empty: then
// the handler gets the zero T.
func withOptionalBody[T any](h func(http.ResponseWriter, *http.Request, T) error) func(http.ResponseWriter, *http.Request) error {
	return decoded(true, h)
}

func decoded[T any](emptyOK bool, h func(http.ResponseWriter, *http.Request, T) error) func(http.ResponseWriter, *http.Request) error {
	return func(w http.ResponseWriter, r *http.Request) error {
		var req T
		if err := decodeJSON(w, r, &req, emptyOK); err != nil {
			return err
		}
		return h(w, r, req)
	}
}

// decodeJSON reads a JSON body of at most maxBody bytes into v. An empty body
// is allowed when emptyOK. Unknown fields are ignored so the contract can
// grow; a value of the wrong type is an error naming the field. A body
// must say it is application/json (415 otherwise, a missing Content-Type
// included): a form or text/plain post from a web page is refused before
// anything reads it.
func decodeJSON(w http.ResponseWriter, r *http.Request, v any, emptyOK bool) error {
	body := io.Reader(http.MaxBytesReader(w, r.Body, maxBody))
	if !isJSON(r.Header.Get("Content-Type")) {
		if r.ContentLength > 0 {
			return errNotJSON()
		}
		// No length given (chunked) or zero: look for a first byte.
		var first [1]byte
		n, _ := io.ReadFull(body, first[:])
		if n > 0 {
			return errNotJSON()
		}
		body = strings.NewReader("")
	}
	return decodeBody(body, v, emptyOK)
}

// query parses the query string strictly: a malformed one is a 400, not
// silently empty.
func query(r *http.Request) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, errInvalid("", "The query string is malformed.")
	}
	return q, nil
}

// pageParams reads limit and cursor.
func pageParams(r *http.Request) (limit int, cursor string, err error) {
	q, err := query(r)
	if err != nil {
		return 0, "", err
	}
	limit, err = parseLimit(q.Get("limit"))
	return limit, q.Get("cursor"), err
}

func parseLimit(v string) (int, error) {
	if v == "" {
		return defaultLimit, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxLimit {
		return 0, errInvalid("limit", fmt.Sprintf("limit must be a whole number from 1 to %d.", maxLimit))
	}
	return n, nil
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/json"
}

func errNotJSON() *apiError {
	return &apiError{status: http.StatusUnsupportedMediaType, code: api.CodeUnsupportedMedia,
		msg: "Send the request body as application/json (Content-Type: application/json)."}
}

// decodeBody is decodeJSON's reader-level half, separate so it can be fuzzed.
func decodeBody(body io.Reader, v any, emptyOK bool) error {
	dec := json.NewDecoder(body)
	err := dec.Decode(v)
	if errors.Is(err, io.EOF) {
		if emptyOK {
			return nil
		}
		return errInvalid("", "The request body is empty; send a JSON object.")
	}
	if err == nil {
		if _, err2 := dec.Token(); !errors.Is(err2, io.EOF) {
			return errInvalid("", "The request body has data after the JSON object.")
		}
		return nil
	}
	var (
		syn  *json.SyntaxError
		typ  *json.UnmarshalTypeError
		maxb *http.MaxBytesError
	)
	switch {
	case errors.As(err, &maxb):
		return errInvalid("", fmt.Sprintf("The request body is larger than %d KiB.", maxBody>>10))
	case errors.As(err, &syn):
		return errInvalid("", fmt.Sprintf("The request body is not valid JSON (at byte %d).", syn.Offset))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return errInvalid("", "The request body must be a JSON object.")
		}
		return errInvalid(typ.Field, fmt.Sprintf("Field %q must be %s.", typ.Field, jsonKind(typ.Type.Kind().String())))
	case errors.Is(err, io.ErrUnexpectedEOF):
		return errInvalid("", "The request body is not valid JSON (it ends too early).")
	default:
		return errInvalid("", "The request body is not valid JSON.")
	}
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "struct", "map":
		return "an object"
	case "slice", "array":
		return "an array"
	default:
		return "a number"
	}
}
