package server_test

import (
	"net/http/httptest"
	"strings"
	"testing"

	"sessionguard/api"
	"sessionguard/server"
)

func TestBadInputIsInvalidRequestNamingTheField(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	l := e.login("ana", "Laptop", false)
	big := `{"username":"` + strings.Repeat("a", 20<<10) + `"}`
	tests := []struct {
		name, method, path, token, body string
		field                           string // "" when no single field is to blame
	}{
		{"malformed JSON", "POST", "/v1/login", "", `{"username":`, ""},
		{"not an object", "POST", "/v1/login", "", `[1,2]`, ""},
		{"trailing data", "POST", "/v1/login", "", `{} {}`, ""},
		{"empty body", "POST", "/v1/login", "", ``, ""},
		{"oversize body", "POST", "/v1/accounts", "", big, ""},
		{"wrong type", "POST", "/v1/login", "", `{"username":"ana","password":7}`, "password"},
		{"wrong nested type", "POST", "/v1/login", "", `{"username":"ana","password":"x","device":{"id":1}}`, "device.id"},
		{"wrong bool", "POST", "/v1/logout", l.AccessToken, `{"remember":"yes"}`, "remember"},
		{"missing username", "POST", "/v1/login", "", `{"password":"x","device":{"id":"d"}}`, "username"},
		{"missing password", "POST", "/v1/login", "", `{"username":"ana","device":{"id":"d"}}`, "password"},
		{"missing device id", "POST", "/v1/login", "", `{"username":"ana","password":"x"}`, "device.id"},
		{"device name too long", "POST", "/v1/login", "", `{"username":"ana","password":"x","device":{"id":"d","name":"` + strings.Repeat("n", 65) + `"}}`, "device.name"},
		{"control characters", "POST", "/v1/login", "", `{"username":"ana","password":"x","device":{"id":"d","name":"a\u0007b"}}`, "device.name"},
		{"missing refresh token", "POST", "/v1/token/refresh", "", `{}`, "refresh_token"},
		{"missing credential", "POST", "/v1/login/remembered", "", `{"device":{"id":"d"}}`, "credential"},
		{"missing reauth password", "POST", "/v1/reauth", l.AccessToken, `{}`, "password"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := e.do(tc.method, tc.path, tc.token, tc.body).wantError(t, 400, api.CodeInvalidRequest)
			f, _ := got.Details[api.DetailField].(string)
			if f != tc.field {
				t.Fatalf("field = %q, want %q (message %q)", f, tc.field, got.Message)
			}
			if tc.field != "" && !strings.Contains(got.Message, strings.TrimPrefix(tc.field, "device.")) {
				t.Errorf("message %q does not name %q", got.Message, tc.field)
			}
		})
	}
	// Nothing was lost: the session still works.
	e.do("GET", "/v1/me", l.AccessToken, nil).wantOK(t, 200, nil)
}

func TestUnknownFieldsAreIgnoredForForwardCompatibility(t *testing.T) {
	e := newEnvSignedUp(t, "ana")
	e.do("POST", "/v1/login", "", `{"username":"ana","password":"`+testPassword+`","device":{"id":"d","name":"n","future":true},"hint":1}`).wantOK(t, 200, nil)
}

func TestAuthenticationErrors(t *testing.T) {
	e := newEnv(t)
	tests := []struct{ name, header string }{
		{"no header", ""},
		{"wrong scheme", "Basic abc"},
		{"empty bearer", "Bearer "},
		{"unknown token", "Bearer sga_nope"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var hdr []string
			if tc.header != "" {
				hdr = []string{"Authorization", tc.header}
			}
			e.do("GET", "/v1/me", "", nil, hdr...).wantError(t, 401, api.CodeInvalidToken)
		})
	}
}

func TestUnknownRoutesAndMethods(t *testing.T) {
	e := newEnv(t)
	e.do("GET", "/v1/nope", "", nil).wantError(t, 404, api.CodeNotFound)
	e.do("PUT", "/v1/login", "", nil).wantError(t, 405, api.CodeMethodNotAllowed)
	e.do("POST", "/v1/sessions/ses_1", "", nil).wantError(t, 405, api.CodeMethodNotAllowed)
	e.do("POST", "/v1/login", "", "x=1", "Content-Type", "text/plain").wantError(t, 415, api.CodeUnsupportedMedia)
}

func TestHealthAndMetrics(t *testing.T) {
	// /healthz says the server is sessiond (so a client can tell it from
	// another server at the address), and which version.
	for _, tc := range []struct{ version, want string }{
		{"", "dev"},
		{"1.0.0", "1.0.0"},
	} {
		e := newEnv(t, func(c *server.Config) { c.Version = tc.version })
		var h api.HealthResponse
		e.do("GET", "/healthz", "", nil).wantOK(t, 200, &h)
		if want := (api.HealthResponse{Status: "ok", Service: "sessiond", Version: tc.want}); h != want {
			t.Fatalf("health = %+v, want %+v", h, want)
		}
	}
	e := newEnv(t)
	e.signUp("ana")
	e.login("ana", "Laptop", false)
	// Metrics are not on the API's address (they tell an outsider how
	// busy the server is and which sign-ins fail): MetricsHandler serves
	// them wherever the operator puts them (--metrics-addr).
	e.do("GET", "/metrics", "", nil).wantError(t, 404, api.CodeNotFound)
	rec := httptest.NewRecorder()
	e.srv.MetricsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	m := reply{status: rec.Code, body: rec.Body.Bytes()}
	for _, want := range []string{
		`sessiond_http_requests_total{route="POST /v1/login",status="200"} 1`,
		`sessiond_logins_total{result="succeeded"} 1`,
		"sessiond_event_streams 0",
		"go_goroutines",
	} {
		if !strings.Contains(string(m.body), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
}
