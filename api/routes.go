package api

// Route is one HTTP route of the contract.
type Route struct {
	Method string
	Path   string // with {param} placeholders, as in openapi.yaml
}

// Routes lists every route of the v1 contract. The server registers exactly
// these, and api/openapi.yaml describes exactly these (both are tested).
// The password and two-step routes join when the server implements them.
var Routes = []Route{
	{"POST", "/v1/accounts"},
	{"POST", "/v1/login"},
	{"POST", "/v1/login/remembered"},
	{"POST", "/v1/remembered/forget"},
	{"POST", "/v1/token/refresh"},
	{"POST", "/v1/logout"},
	{"GET", "/v1/me"},
	{"GET", "/v1/sessions"},
	{"DELETE", "/v1/sessions"},
	{"DELETE", "/v1/sessions/{id}"},
	{"POST", "/v1/reauth"},
	{"GET", "/v1/audit"},
	{"GET", "/v1/events"},
	{"GET", "/healthz"},
	{"GET", "/metrics"},
}
