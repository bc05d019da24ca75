package api

// Route is one HTTP route of the contract.
type Route struct {
	Method string
	Path   string // with {param} placeholders, as in openapi.yaml
}

// Routes lists every route of the v1 contract. The server registers exactly
// these, and api/openapi.yaml describes exactly these (both are tested).
var Routes = []Route{
	{"POST", "/v1/accounts"},
	{"POST", "/v1/login"},
	{"POST", "/v1/login/mfa"},
	{"POST", "/v1/login/remembered"},
	{"POST", "/v1/login/approval"},
	{"POST", "/v1/login/approvals/{id}"},
	{"POST", "/v1/link/start"},
	{"POST", "/v1/link/approve"},
	{"POST", "/v1/link/poll"},
	{"POST", "/v1/remembered/forget"},
	{"POST", "/v1/token/refresh"},
	{"POST", "/v1/logout"},
	{"GET", "/v1/me"},
	{"GET", "/v1/sessions"},
	{"DELETE", "/v1/sessions"},
	{"DELETE", "/v1/sessions/{id}"},
	{"PATCH", "/v1/sessions/{id}"},
	{"POST", "/v1/closures"},
	{"POST", "/v1/reauth"},
	{"POST", "/v1/password"},
	{"POST", "/v1/mfa/totp/setup"},
	{"POST", "/v1/mfa/totp/enable"},
	{"POST", "/v1/mfa/totp/disable"},
	{"GET", "/v1/mfa/recovery-codes"},
	{"POST", "/v1/mfa/recovery-codes"},
	{"GET", "/v1/settings"},
	{"PUT", "/v1/settings"},
	{"GET", "/v1/audit"},
	{"GET", "/v1/audit/export"},
	{"GET", "/v1/server-key"},
	{"GET", "/v1/events"},
	{"GET", "/healthz"},
}
