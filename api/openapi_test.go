package api_test

import (
	"encoding/json"
	"go/ast"
	"go/parser"
	"go/token"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"

	"sessionguard/api"
	"sessionguard/api/dpop"
)

// loadSpec loads the embedded document and validates it as OpenAPI 3.0.
func loadSpec(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(api.OpenAPISpec())
	if err != nil {
		t.Fatalf("load openapi.yaml: %v", err)
	}
	if err := doc.Validate(loader.Context); err != nil {
		t.Fatalf("openapi.yaml is not a valid OpenAPI document: %v", err)
	}
	return doc
}

func TestOpenAPIDocumentValidates(t *testing.T) {
	doc := loadSpec(t)
	if doc.OpenAPI != "3.0.3" {
		t.Errorf("openapi = %q, want 3.0.3", doc.OpenAPI)
	}
}

func TestOpenAPISpecReturnsCopy(t *testing.T) {
	a := api.OpenAPISpec()
	if len(a) == 0 {
		t.Fatal("OpenAPISpec() is empty")
	}
	a[0] ^= 0xff
	if b := api.OpenAPISpec(); b[0] == a[0] {
		t.Error("OpenAPISpec() returned shared memory: a caller's change leaked into the next call")
	}
}

// specOperations returns every operation of doc keyed "METHOD /path".
func specOperations(doc *openapi3.T) map[string]*openapi3.Operation {
	ops := map[string]*openapi3.Operation{}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			ops[strings.ToUpper(method)+" "+path] = op
		}
	}
	return ops
}

func routeKey(r api.Route) string { return r.Method + " " + r.Path }

func TestOpenAPIRoutesMatchAPIRoutes(t *testing.T) {
	doc := loadSpec(t)
	inSpec := specOperations(doc)
	inGo := map[string]bool{}
	for _, r := range api.Routes {
		k := routeKey(r)
		if inGo[k] {
			t.Errorf("api.Routes lists %s twice", k)
		}
		inGo[k] = true
	}
	for _, k := range sortedKeys(inGo) {
		if inSpec[k] == nil {
			t.Errorf("%s is in api.Routes but not in openapi.yaml", k)
		}
	}
	for _, k := range sortedKeys(inSpec) {
		if !inGo[k] {
			t.Errorf("%s is in openapi.yaml but not in api.Routes", k)
		}
	}
}

// publicRoutes are the routes that take no bearer token.
var publicRoutes = map[string]bool{
	"POST /v1/accounts":          true,
	"POST /v1/login":             true,
	"POST /v1/login/mfa":         true,
	"POST /v1/login/remembered":  true,
	"POST /v1/remembered/forget": true,
	"POST /v1/token/refresh":     true,
	"POST /v1/closures":          true,
	"POST /v1/login/approval":    true,
	"POST /v1/link/start":        true,
	"POST /v1/link/poll":         true,
	"GET /healthz":               true,
	"GET /v1/server-key":         true,
}

// twoSuccesses are the operations with two 2xx answers: the long polls
// (200 done, 202 still waiting) and link approval (200 with check, 204).
var twoSuccesses = map[string]bool{
	"POST /v1/login/approval": true,
	"POST /v1/link/poll":      true,
	"POST /v1/link/approve":   true,
}

func TestOpenAPISecurity(t *testing.T) {
	doc := loadSpec(t)
	scheme := doc.Components.SecuritySchemes["bearerAuth"]
	if scheme == nil || scheme.Value == nil || scheme.Value.Type != "http" || scheme.Value.Scheme != "bearer" {
		t.Fatalf("components.securitySchemes.bearerAuth must be http bearer, got %+v", scheme)
	}
	scheme = doc.Components.SecuritySchemes["dpopAuth"]
	if scheme == nil || scheme.Value == nil || scheme.Value.Type != "http" || scheme.Value.Scheme != dpop.Scheme {
		t.Fatalf("components.securitySchemes.dpopAuth must be http %s, got %+v", dpop.Scheme, scheme)
	}
	// Either scheme: Bearer, or DPoP for a bound session.
	if len(doc.Security) != 2 || len(doc.Security[0]) != 1 || doc.Security[0]["bearerAuth"] == nil ||
		len(doc.Security[1]) != 1 || doc.Security[1]["dpopAuth"] == nil {
		t.Fatalf("the document's default security must be [bearerAuth] or [dpopAuth], got %v", doc.Security)
	}
	ops := specOperations(doc)
	for k := range publicRoutes {
		if ops[k] == nil {
			t.Errorf("public route %s is not in openapi.yaml", k)
		}
	}
	for _, k := range sortedKeys(ops) {
		op := ops[k]
		if publicRoutes[k] {
			if op.Security == nil || len(*op.Security) != 0 {
				t.Errorf("%s is public: it must say `security: []`", k)
			}
			continue
		}
		if op.Security != nil {
			t.Errorf("%s needs bearerAuth or dpopAuth: it must not override the default security", k)
		}
		if op.Responses.Status(401) == nil {
			t.Errorf("%s is authenticated but documents no 401 answer", k)
		}
	}
}

func TestOpenAPIOperationsDocumented(t *testing.T) {
	doc := loadSpec(t)
	for k, op := range specOperations(doc) {
		if op.OperationID == "" || op.Summary == "" {
			t.Errorf("%s: operationId and summary are required", k)
		}
		var ok int
		for status := range op.Responses.Map() {
			if strings.HasPrefix(status, "2") {
				ok++
			}
		}
		if want := map[bool]int{false: 1, true: 2}[twoSuccesses[k]]; ok != want {
			t.Errorf("%s: want exactly %d 2xx answer(s), got %d", k, want, ok)
		}
	}
}

func TestOpenAPIErrorResponsesUseErrorSchema(t *testing.T) {
	doc := loadSpec(t)
	const errorRef = "#/components/schemas/Error"
	for k, op := range specOperations(doc) {
		for status, resp := range op.Responses.Map() {
			code, err := strconv.Atoi(status)
			if err != nil || code < 400 {
				if status == "default" {
					t.Errorf("%s: use explicit statuses, not default", k)
				}
				continue
			}
			if resp.Value == nil {
				t.Errorf("%s %s: unresolved response", k, status)
				continue
			}
			if len(resp.Value.Content) != 1 || resp.Value.Content["application/json"] == nil {
				t.Errorf("%s %s: an error answer must be exactly application/json, got %v", k, status, slices.Sorted(maps.Keys(resp.Value.Content)))
				continue
			}
			if s := resp.Value.Content["application/json"].Schema; s == nil || s.Ref != errorRef {
				t.Errorf("%s %s: an error answer must use %s", k, status, errorRef)
			}
			if code == 429 && resp.Value.Headers["Retry-After"] == nil {
				t.Errorf("%s 429: the Retry-After header must be documented", k)
			}
		}
	}
}

func TestOpenAPIParameters(t *testing.T) {
	doc := loadSpec(t)
	ops := specOperations(doc)
	for _, k := range []string{"GET /v1/sessions", "GET /v1/audit"} {
		op := ops[k]
		if op == nil {
			t.Errorf("%s is missing", k)
			continue
		}
		limit := op.Parameters.GetByInAndName("query", "limit")
		if limit == nil || limit.Required || limit.Schema == nil || limit.Schema.Value == nil {
			t.Errorf("%s: want an optional query parameter limit", k)
		} else {
			s := limit.Schema.Value
			if s.Default != 50.0 || s.Min == nil || *s.Min != 1 || s.Max == nil || *s.Max != 200 {
				t.Errorf("%s: limit must be 1..200, default 50; got minimum %s maximum %s default %v", k, deref(s.Min), deref(s.Max), s.Default)
			}
		}
		if c := op.Parameters.GetByInAndName("query", "cursor"); c == nil || c.Required {
			t.Errorf("%s: want an optional query parameter cursor", k)
		}
	}
	if op := ops["DELETE /v1/sessions"]; op != nil {
		scope := op.Parameters.GetByInAndName("query", "scope")
		if scope == nil || !scope.Required || scope.Schema == nil || !reflect.DeepEqual(scope.Schema.Value.Enum, []any{"others"}) {
			t.Errorf("DELETE /v1/sessions: want a required query parameter scope with enum [others]")
		}
	}
	for _, k := range []string{"DELETE /v1/sessions", "DELETE /v1/sessions/{id}"} {
		op := ops[k]
		if op == nil {
			continue
		}
		erase := op.Parameters.GetByInAndName("query", "erase")
		if erase == nil || erase.Required || erase.Schema == nil || !erase.Schema.Value.Type.Is("boolean") {
			t.Errorf("%s: want an optional boolean query parameter erase", k)
		}
	}
	if op := ops["GET /v1/sessions"]; op != nil {
		state := op.Parameters.GetByInAndName("query", "state")
		if state == nil || state.Required || state.Schema == nil ||
			!reflect.DeepEqual(state.Schema.Value.Enum, []any{api.SessionsLive, api.SessionsEnded}) || state.Schema.Value.Default != api.SessionsLive {
			t.Errorf("GET /v1/sessions: want an optional query parameter state, enum [live ended], default live")
		}
		q := op.Parameters.GetByInAndName("query", "q")
		if q == nil || q.Required || q.Schema == nil || !q.Schema.Value.Type.Is("string") ||
			q.Schema.Value.MaxLength == nil || *q.Schema.Value.MaxLength != api.SessionQueryMaxLen {
			t.Errorf("GET /v1/sessions: want an optional string query parameter q of at most api.SessionQueryMaxLen (%d) characters", api.SessionQueryMaxLen)
		}
	}
}

// wireType pairs a components/schemas entry with the Go type it describes.
type wireType struct {
	schema string
	typ    reflect.Type
	// out: the server always sends every field Go does not omit, so the
	// schema must require them all.
	out bool
	// samples are values of typ that must validate against the schema.
	// Together they must set every field, so every property is exercised.
	samples []any
}

var (
	t0      = time.Date(2025, 5, 1, 12, 0, 0, 0, time.UTC)
	t1      = t0.Add(15 * time.Minute)
	device  = api.Device{ID: "0b8f5a7e-3c1d-4f5e-9a2b-6c7d8e9f0a1b", Name: "Pixel 8", Platform: api.PlatformAndroid, OS: "Android 15", Model: "Google Pixel 8", AppVersion: "1.0.0"}
	account = api.Account{ID: "acc_1", Username: "ada", CreatedAt: t0, MFAEnabled: true}
	place   = api.Location{City: "Berlin", Region: "Berlin", Country: "Germany", CountryCode: "DE"}
	session = api.Session{
		ID: "ses_2b9", Current: true, Device: device, IP: "203.0.113.7", Location: place,
		CreatedAt: t0, LastSeenAt: t1, AuthTime: t0, ExpiresAt: t0.Add(12 * time.Hour), Remember: true,
		RevokedAt: &t1, RevokeReason: api.ReasonRemoteLogout,
		RevokedBySessionID: "ses_7f1", RevokedByDeviceName: "Laptop", Closure: &closure, IdleTimeoutS: 7 * 24 * 3600,
		Bound: true,
	}
	t2      = t1.Add(300 * time.Millisecond)
	closure = api.Closure{State: api.ClosureConfirmed, EraseRequested: true, Erased: true, ConfirmedAt: &t2}
	audit   = api.AuditEvent{
		ID: "aud_1", At: t0, Type: api.AuditSessionRevoked, IP: "203.0.113.7", Location: place,
		SessionID: "ses_7f1", DeviceName: "Laptop", TargetSessionID: "ses_2b9", TargetDeviceName: "Pixel 8", Detail: "logged out remotely",
		Seq: 12, PrevHash: api.GenesisHash, Hash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
	}
	head = api.AuditHead{AccountID: "acc_1", Seq: 12, Hash: "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", At: t1}
)

var wireTypes = []wireType{
	{"Error", reflect.TypeFor[api.ErrorBody](), true, []any{api.ErrorBody{Error: api.ErrorDetail{
		Code: api.CodeSessionRevoked, Message: "logged out from another device",
		Details: map[string]any{api.DetailField: "device.id", api.DetailReason: api.ReasonRemoteLogout, api.DetailRevokedAt: t0, api.DetailByDeviceName: "Pixel 8", api.DetailRetryAfterS: 30, api.DetailAttemptsLeft: 2,
			api.DetailErase: true, api.DetailClosureToken: "sgc_x"},
	}}, api.ErrorBody{Error: api.ErrorDetail{Code: api.CodeInvalidToken, Message: "bound to another device's key",
		Details: map[string]any{api.DetailReason: api.ReasonDPoP}}},
		api.ErrorBody{Error: api.ErrorDetail{Code: api.CodeInvalidDPoPProof, Message: "proof used before"}}}},
	{"ErrorDetail", reflect.TypeFor[api.ErrorDetail](), true, []any{api.ErrorDetail{Code: api.CodeRateLimited, Message: "slow down", Details: map[string]any{api.DetailRetryAfterS: 30}}}},
	{"Device", reflect.TypeFor[api.Device](), true, []any{device}},
	{"Account", reflect.TypeFor[api.Account](), true, []any{account}},
	{"Location", reflect.TypeFor[api.Location](), true, []any{place, api.Location{}}},
	{"Session", reflect.TypeFor[api.Session](), true, []any{session}},
	{"Tokens", reflect.TypeFor[api.Tokens](), true, []any{api.Tokens{AccessToken: "at", RefreshToken: "rt", AccessExpiresAt: t1, RefreshExpiresAt: t0.Add(time.Hour)}}},
	{"Login", reflect.TypeFor[api.Login](), true, []any{
		api.Login{Account: &account, Session: &session, AccessToken: "at", RefreshToken: "rt", AccessExpiresAt: t1, RefreshExpiresAt: t0.Add(time.Hour)},
		api.Login{MFARequired: true, MFAToken: "mfa_1"},
		api.Login{ApprovalRequired: true, ApprovalToken: "sgp_1", Approval: &api.Approval{ID: "apr_1", Number: 42, ExpiresAt: t1}},
	}},
	{"AuditEvent", reflect.TypeFor[api.AuditEvent](), true, []any{audit}},
	{"CreateAccountRequest", reflect.TypeFor[api.CreateAccountRequest](), false, []any{api.CreateAccountRequest{Username: "ada", Password: "correct horse"}}},
	{"CreateAccountResponse", reflect.TypeFor[api.CreateAccountResponse](), true, []any{api.CreateAccountResponse{Account: account}}},
	{"LoginRequest", reflect.TypeFor[api.LoginRequest](), false, []any{api.LoginRequest{Username: "ada", Password: "pw", Remember: true, Device: device,
		InstallKey: "k8Yq3-p0_fJ2nW7xLr5tVa9cZe1uHb6mDg4sQy"}}},
	{"MFALoginRequest", reflect.TypeFor[api.MFALoginRequest](), false, []any{api.MFALoginRequest{MFAToken: "mfa_1", Code: "123456",
		InstallKey: "k8Yq3-p0_fJ2nW7xLr5tVa9cZe1uHb6mDg4sQy"}}},
	{"RememberedLoginRequest", reflect.TypeFor[api.RememberedLoginRequest](), false, []any{api.RememberedLoginRequest{Credential: "rc", Device: device, Remember: true,
		InstallKey: "k8Yq3-p0_fJ2nW7xLr5tVa9cZe1uHb6mDg4sQy"}}},
	{"ForgetRememberedRequest", reflect.TypeFor[api.ForgetRememberedRequest](), false, []any{api.ForgetRememberedRequest{Credential: "rc"}}},
	{"RefreshRequest", reflect.TypeFor[api.RefreshRequest](), false, []any{api.RefreshRequest{RefreshToken: "rt"}}},
	{"LogoutRequest", reflect.TypeFor[api.LogoutRequest](), false, []any{api.LogoutRequest{Remember: true, RefreshToken: "sgr_1"}}},
	{"LogoutResponse", reflect.TypeFor[api.LogoutResponse](), true, []any{api.LogoutResponse{RememberedCredential: "rc", RememberedExpiresAt: &t1}, api.LogoutResponse{}}},
	{"MeResponse", reflect.TypeFor[api.MeResponse](), true, []any{api.MeResponse{Account: account, Session: session}}},
	{"SessionsPage", reflect.TypeFor[api.SessionsPage](), true, []any{
		api.SessionsPage{Sessions: []api.Session{session}, NextCursor: "c2", Counts: &api.SessionCounts{Total: 10_000, ActiveToday: 12}},
		api.SessionsPage{Sessions: []api.Session{session}, NextCursor: "c3"},
		api.SessionsPage{Sessions: []api.Session{}, Counts: &api.SessionCounts{}},
	}},
	{"SessionCounts", reflect.TypeFor[api.SessionCounts](), true, []any{api.SessionCounts{Total: 9, ActiveToday: 1}, api.SessionCounts{}}},
	{"RevokeSessionResponse", reflect.TypeFor[api.RevokeSessionResponse](), true, []any{api.RevokeSessionResponse{Session: session}}},
	{"RevokedCount", reflect.TypeFor[api.RevokedCount](), true, []any{api.RevokedCount{Revoked: 3}}},
	{"ReauthRequest", reflect.TypeFor[api.ReauthRequest](), false, []any{api.ReauthRequest{Password: "pw", Code: "123456"}}},
	{"ReauthResponse", reflect.TypeFor[api.ReauthResponse](), true, []any{api.ReauthResponse{AuthTime: t0}}},
	{"ChangePasswordRequest", reflect.TypeFor[api.ChangePasswordRequest](), false, []any{api.ChangePasswordRequest{CurrentPassword: "a", NewPassword: "b", LogOutOtherDevices: true}}},
	{"TOTPSetupResponse", reflect.TypeFor[api.TOTPSetupResponse](), true, []any{api.TOTPSetupResponse{Secret: "JBSWY3DP", OTPAuthURI: "otpauth://totp/Sessionguard:ada?secret=JBSWY3DP"}}},
	{"TOTPEnableRequest", reflect.TypeFor[api.TOTPEnableRequest](), false, []any{api.TOTPEnableRequest{Code: "123456"}}},
	{"TOTPEnableResponse", reflect.TypeFor[api.TOTPEnableResponse](), true, []any{api.TOTPEnableResponse{RecoveryCodes: []string{"a1b2-c3d4"}}}},
	{"AuditPage", reflect.TypeFor[api.AuditPage](), true, []any{api.AuditPage{Events: []api.AuditEvent{audit}, NextCursor: "c2"}}},
	{"AuditHead", reflect.TypeFor[api.AuditHead](), true, []any{head}},
	{"SignedAuditHead", reflect.TypeFor[api.SignedAuditHead](), true, []any{api.SignedAuditHead{Head: head, Signature: "c2lnbmF0dXJl"}}},
	{"ServerKey", reflect.TypeFor[api.ServerKey](), true, []any{api.ServerKey{Alg: api.ServerKeyAlg, PublicKey: "MCowBQYDK2VwAyEA"}}},
	{"HealthResponse", reflect.TypeFor[api.HealthResponse](), true, []any{api.HealthResponse{Status: "ok", Service: api.HealthService, Version: "1.0.0"},
		api.HealthResponse{Status: "ok", Service: api.HealthService}}},
	{"UpdateSessionRequest", reflect.TypeFor[api.UpdateSessionRequest](), false, []any{api.UpdateSessionRequest{Name: ptr("Ana's ThinkPad X1"), IdleTimeoutS: ptr(3600)}}},
	{"UpdateSessionResponse", reflect.TypeFor[api.UpdateSessionResponse](), true, []any{api.UpdateSessionResponse{Session: session}}},
	{"Settings", reflect.TypeFor[api.Settings](), true, []any{api.Settings{AutoLogoutInactiveAfterS: 30 * 24 * 3600, ApproveNewDevices: true}, api.Settings{}}},
	{"RecoveryCodesStatus", reflect.TypeFor[api.RecoveryCodesStatus](), true, []any{api.RecoveryCodesStatus{Remaining: 7}, api.RecoveryCodesStatus{}}},
	{"RecoveryCodesResponse", reflect.TypeFor[api.RecoveryCodesResponse](), true, []any{api.RecoveryCodesResponse{RecoveryCodes: []string{"7kq2-m9xd-4hfr-p3wc-8tbn-j5ge"}}}},
	{"SessionRevokedEvent", reflect.TypeFor[api.SessionRevokedEvent](), true, []any{
		api.SessionRevokedEvent{SessionID: "ses_2b9", Reason: api.ReasonRemoteLogout, At: t0, BySessionID: "ses_7f1", ByDeviceName: "Laptop",
			Erase: true, ClosureToken: "sgc_3q2Vt8Hk0m1sJbZr6yQe5cWn9xFa7uDg4pLo2iTk0hE"},
		api.SessionRevokedEvent{SessionID: "ses_2b9", Reason: api.ReasonLogout, At: t0, BySessionID: "ses_2b9", ByDeviceName: "Laptop"},
	}},
	{"Closure", reflect.TypeFor[api.Closure](), true, []any{closure, api.Closure{State: api.ClosurePending}}},
	{"ClosureRequest", reflect.TypeFor[api.ClosureRequest](), false, []any{api.ClosureRequest{ClosureToken: "sgc_x", Erased: true}}},
	{"SessionCreatedEvent", reflect.TypeFor[api.SessionCreatedEvent](), true, []any{api.SessionCreatedEvent{Session: session}}},
	{"SessionsChangedEvent", reflect.TypeFor[api.SessionsChangedEvent](), true, []any{api.SessionsChangedEvent{}}},
	{"PasswordChangedEvent", reflect.TypeFor[api.PasswordChangedEvent](), true, []any{api.PasswordChangedEvent{At: t0, ByDeviceName: "Laptop"}}},
	{"Approval", reflect.TypeFor[api.Approval](), true, []any{api.Approval{ID: "apr_1", Number: 42, ExpiresAt: t1}}},
	{"ApprovalPollRequest", reflect.TypeFor[api.ApprovalPollRequest](), false, []any{api.ApprovalPollRequest{ApprovalToken: "sgp_1",
		InstallKey: "k8Yq3-p0_fJ2nW7xLr5tVa9cZe1uHb6mDg4sQy"}}},
	{"ApprovalPending", reflect.TypeFor[api.ApprovalPending](), true, []any{api.ApprovalPending{Pending: true}}},
	{"ApprovalDecision", reflect.TypeFor[api.ApprovalDecision](), false, []any{api.ApprovalDecision{Approve: true, Number: 42}}},
	{"LinkStartRequest", reflect.TypeFor[api.LinkStartRequest](), false, []any{api.LinkStartRequest{Device: device, Remember: true,
		InstallKey: "k8Yq3-p0_fJ2nW7xLr5tVa9cZe1uHb6mDg4sQy"}}},
	{"LinkStart", reflect.TypeFor[api.LinkStart](), true, []any{api.LinkStart{LinkToken: "sgl_1", UserCode: "ABCD-EFGH", ExpiresAt: t1}}},
	{"LinkApproveRequest", reflect.TypeFor[api.LinkApproveRequest](), false, []any{api.LinkApproveRequest{UserCode: "ABCD-EFGH", Check: true}}},
	{"LinkPreview", reflect.TypeFor[api.LinkPreview](), true, []any{api.LinkPreview{Device: device, IP: "203.0.113.7", Location: place, At: t0}}},
	{"LinkPollRequest", reflect.TypeFor[api.LinkPollRequest](), false, []any{api.LinkPollRequest{LinkToken: "sgl_1"}}},
	{"LoginApprovalRequestedEvent", reflect.TypeFor[api.LoginApprovalRequestedEvent](), true, []any{api.LoginApprovalRequestedEvent{
		ID: "apr_1", Device: device, IP: "203.0.113.7", Location: place, At: t0, ExpiresAt: t1, Numbers: []int{17, 42, 88}}}},
	{"LoginApprovalResolvedEvent", reflect.TypeFor[api.LoginApprovalResolvedEvent](), true, []any{api.LoginApprovalResolvedEvent{ID: "apr_1", Outcome: "denied"}}},
}

// schemasWithoutGoStruct are component schemas that describe no Go struct.
var schemasWithoutGoStruct = map[string]bool{
	"RevokeReason": true, // the Reason* string constants
}

// goStructsNotOnTheWire are exported struct types of package api that are not
// JSON bodies.
var goStructsNotOnTheWire = map[string]bool{
	"Route": true,
}

// jsonField is one JSON property of a Go struct.
type jsonField struct {
	goName   string
	optional bool // omitempty or omitzero: Go may leave it out
}

// jsonFields returns the JSON property names of struct type typ, as
// encoding/json would write them.
func jsonFields(t *testing.T, typ reflect.Type) map[string]jsonField {
	t.Helper()
	fields := map[string]jsonField{}
	for f := range typ.Fields() {
		if !f.IsExported() {
			continue
		}
		if f.Anonymous {
			t.Fatalf("%s.%s: embedded fields are not handled by this test; extend jsonFields", typ, f.Name)
		}
		tag := f.Tag.Get("json")
		if tag == "-" {
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "" {
			name = f.Name
		}
		optional := false
		for o := range strings.SplitSeq(opts, ",") {
			optional = optional || o == "omitempty" || o == "omitzero"
		}
		fields[name] = jsonField{goName: f.Name, optional: optional}
	}
	return fields
}

func schemaRef(t *testing.T, doc *openapi3.T, name string) *openapi3.Schema {
	t.Helper()
	ref := doc.Components.Schemas[name]
	if ref == nil || ref.Value == nil {
		t.Fatalf("components.schemas.%s is missing", name)
	}
	return ref.Value
}

func TestOpenAPISchemasMatchGoTypes(t *testing.T) {
	doc := loadSpec(t)
	for _, w := range wireTypes {
		t.Run(w.schema, func(t *testing.T) {
			s := schemaRef(t, doc, w.schema)
			if !s.Type.Is("object") {
				t.Errorf("type = %v, want object", s.Type)
			}
			fields := jsonFields(t, w.typ)
			for _, name := range sortedKeys(fields) {
				if s.Properties[name] == nil {
					t.Errorf("Go %s has JSON field %q (%s) that the schema lacks", w.typ, name, fields[name].goName)
				}
			}
			for _, name := range sortedKeys(s.Properties) {
				if _, ok := fields[name]; !ok {
					t.Errorf("schema property %q is not a JSON field of Go %s", name, w.typ)
				}
			}
			required := map[string]bool{}
			for _, name := range s.Required {
				required[name] = true
				if f, ok := fields[name]; ok && f.optional {
					t.Errorf("schema requires %q but Go %s omits it when empty", name, w.typ)
				}
			}
			if w.out {
				for _, name := range sortedKeys(fields) {
					if !fields[name].optional && !required[name] {
						t.Errorf("Go %s always sends %q: the schema should require it", w.typ, name)
					}
				}
			}
		})
	}
}

// TestOpenAPISamplesValidate marshals Go values and validates the JSON
// against their schemas, so property types, formats and enums match too.
func TestOpenAPISamplesValidate(t *testing.T) {
	doc := loadSpec(t)
	for _, w := range wireTypes {
		t.Run(w.schema, func(t *testing.T) {
			s := schemaRef(t, doc, w.schema)
			set := map[string]bool{}
			for i, sample := range w.samples {
				v := reflect.ValueOf(sample)
				if v.Type() != w.typ {
					t.Fatalf("sample %d is a %s, want %s", i, v.Type(), w.typ)
				}
				for j := range v.NumField() {
					if !v.Field(j).IsZero() {
						set[w.typ.Field(j).Name] = true
					}
				}
				if err := s.VisitJSON(roundTrip(t, sample), openapi3.EnableFormatValidation()); err != nil {
					t.Errorf("sample %d does not validate: %v", i, err)
				}
			}
			for f := range w.typ.Fields() {
				if f.IsExported() && !set[f.Name] {
					t.Errorf("no sample sets %s.%s: add one so the property is checked", w.typ, f.Name)
				}
			}
		})
	}
}

// TestOpenAPISchemasRejectBadValues shows that the schema checks bite.
func TestOpenAPISchemasRejectBadValues(t *testing.T) {
	doc := loadSpec(t)
	for _, tc := range []struct{ schema, json string }{
		{"Login", `{}`},
		{"Login", `{"access_token":"at"}`},
		{"Tokens", `{"access_token":"at","refresh_token":"rt","access_expires_at":"soon","refresh_expires_at":"2025-05-01T12:00:00Z"}`},
		{"Session", `{"id":"s","current":true,"device":{},"ip":"","location":{},"created_at":"2025-05-01T12:00:00Z","last_seen_at":"2025-05-01T12:00:00Z","auth_time":"2025-05-01T12:00:00Z","expires_at":"2025-05-01T12:00:00Z","remember":false}`},
		{"Error", `{"error":{"code":"teapot","message":"m"}}`},
		{"Error", `{"code":"internal","message":"m"}`},
		{"AuditEvent", `{"id":"a","at":"2025-05-01T12:00:00Z","type":"login.teleported","ip":"","location":{"city":"","region":"","country":"","country_code":""},"session_id":"","device_name":"","detail":""}`},
		{"SessionRevokedEvent", `{"session_id":"s","reason":"bored","at":"2025-05-01T12:00:00Z","by_session_id":"","by_device_name":""}`},
		{"RevokedCount", `{"revoked":"3"}`},
		{"SessionsPage", `{"sessions":null,"next_cursor":""}`},
		{"SessionsPage", `{"sessions":[],"next_cursor":"","counts":{"total":1}}`},
		{"SessionsPage", `{"sessions":[],"next_cursor":"","counts":null}`},
		{"SessionCounts", `{"total":-1,"active_today":0}`},
		{"SessionCounts", `{"total":1,"active_today":"1"}`},
		{"HealthResponse", `{"status":"ok"}`},
		{"HealthResponse", `{"status":"ok","service":"grafana"}`},
		{"UpdateSessionRequest", `{"name":""}`},
		{"UpdateSessionRequest", `{"idle_timeout_s":-1}`},
		{"UpdateSessionRequest", `{"idle_timeout_s":"1h"}`},
		{"Settings", `{"auto_logout_inactive_after_s":-1,"approve_new_devices":false}`},
		{"Settings", `{"auto_logout_inactive_after_s":31536001,"approve_new_devices":false}`},
		{"Settings", `{"approve_new_devices":true}`},
		{"RecoveryCodesStatus", `{"remaining":-1}`},
		{"SessionRevokedEvent", `{"session_id":"s","reason":"logout","at":"2025-05-01T12:00:00Z","by_session_id":"","by_device_name":""}`},
		{"Closure", `{"state":"lost","erase_requested":false,"erased":false}`},
		{"Closure", `{"state":"pending","erase_requested":false}`},
		{"ClosureRequest", `{"erased":true}`},
		{"ClosureRequest", `{"closure_token":"sgc_x","erased":"yes"}`},
		{"Error", `{"error":{"code":"invalid_token","message":"m","details":{"reason":"bored"}}}`},
		{"Session", sessionWith(t, "bound", "yes")},
		{"Session", sessionWith(t, "bound", nil)},
	} {
		s := schemaRef(t, doc, tc.schema)
		var v any
		if err := json.Unmarshal([]byte(tc.json), &v); err != nil {
			t.Fatal(err)
		}
		if err := s.VisitJSON(v, openapi3.EnableFormatValidation()); err == nil {
			t.Errorf("%s accepted %s", tc.schema, tc.json)
		}
	}
}

func ptr[T any](v T) *T { return &v }

// sessionWith is the sample session's JSON with property name set to v
// (nil: removed).
func sessionWith(t *testing.T, name string, v any) string {
	t.Helper()
	m := roundTrip(t, session).(map[string]any)
	if v == nil {
		delete(m, name)
	} else {
		m[name] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// dpopRoutes are the public routes that take a DPoP proof: the sign-ins
// (which it binds) and the refresh. Every authenticated route takes one
// too.
var dpopRoutes = map[string]bool{
	"POST /v1/login":            true,
	"POST /v1/login/mfa":        true,
	"POST /v1/login/remembered": true,
	"POST /v1/login/approval":   true,
	"POST /v1/link/poll":        true,
	"POST /v1/token/refresh":    true,
}

// TestOpenAPIDPoP: device-bound tokens (issue 21) are in the contract:
// the DPoP header on exactly the routes that read it, its refusals in
// their 400 and 401 answers with WWW-Authenticate, and the conventions.
func TestOpenAPIDPoP(t *testing.T) {
	doc := loadSpec(t)
	prm := doc.Components.Parameters["DPoP"]
	if prm == nil || prm.Value == nil || prm.Value.In != "header" || prm.Value.Name != dpop.Header || prm.Value.Required ||
		prm.Value.Schema == nil || !prm.Value.Schema.Value.Type.Is("string") || prm.Value.Schema.Value.MaxLength == nil ||
		*prm.Value.Schema.Value.MaxLength != dpop.MaxProofLen {
		t.Fatalf("components.parameters.DPoP must be an optional string header %q of at most %d bytes", dpop.Header, dpop.MaxProofLen)
	}
	for _, want := range []string{"--require-bound", "`session.dpop_refused`", "`invalid_dpop_proof`", "`dpop`",
		"Authorization: DPoP", "X-Forwarded-Host", "replica"} {
		if !strings.Contains(doc.Info.Description, want) {
			t.Errorf("the conventions do not mention %s", want)
		}
	}
	const proofRef, headerRef = "#/components/parameters/DPoP", "#/components/headers/WWWAuthenticate"
	wwwAuthenticate := func(r *openapi3.ResponseRef) bool {
		h := r.Value.Headers["WWW-Authenticate"]
		return h != nil && h.Ref == headerRef
	}
	ops := specOperations(doc)
	for _, k := range sortedKeys(ops) {
		op := ops[k]
		takes := false
		for _, p := range op.Parameters {
			takes = takes || p.Ref == proofRef
		}
		authed := !publicRoutes[k]
		if want := authed || dpopRoutes[k]; takes != want {
			t.Errorf("%s: takes the DPoP header %v, want %v", k, takes, want)
		}
		if dpopRoutes[k] {
			bad := op.Responses.Status(400)
			if bad == nil || bad.Ref != "#/components/responses/BadRequestOrProof" {
				t.Errorf("%s: its 400 must be BadRequestOrProof (invalid_dpop_proof)", k)
			}
		}
		if authed || k == "POST /v1/token/refresh" {
			r := op.Responses.Status(401)
			if r == nil || r.Value == nil || r.Value.Description == nil {
				t.Errorf("%s: no 401", k)
				continue
			}
			d := *r.Value.Description
			if !strings.Contains(d, "`dpop`") || authed && !strings.Contains(d, "`invalid_dpop_proof`") || !wwwAuthenticate(r) {
				t.Errorf("%s: its 401 must name the dpop refusals (reason `dpop`%s) and document WWW-Authenticate",
					k, map[bool]string{true: ", `invalid_dpop_proof`"}[authed])
			}
		}
	}
	bad := doc.Components.Responses["BadRequestOrProof"]
	if bad == nil || bad.Value == nil || !strings.Contains(*bad.Value.Description, "`invalid_dpop_proof`") ||
		!strings.Contains(*bad.Value.Description, "--require-bound") || !wwwAuthenticate(&openapi3.ResponseRef{Value: bad.Value}) {
		t.Error("components.responses.BadRequestOrProof must describe invalid_dpop_proof (--require-bound too) with WWW-Authenticate")
	}
	if b := schemaRef(t, doc, "Session").Properties["bound"]; b == nil || b.Value == nil || !b.Value.Type.Is("boolean") {
		t.Error("Session.bound must be a boolean")
	}
}

func roundTrip(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// TestOpenAPICoversEveryWireType: every component schema is paired with a Go
// type and every exported struct of package api is in the spec.
func TestOpenAPICoversEveryWireType(t *testing.T) {
	doc := loadSpec(t)
	paired := map[string]bool{}
	for _, w := range wireTypes {
		if paired[w.schema] {
			t.Errorf("schema %s is paired twice", w.schema)
		}
		paired[w.schema] = true
	}
	for _, name := range sortedKeys(doc.Components.Schemas) {
		if !paired[name] && !schemasWithoutGoStruct[name] {
			t.Errorf("components.schemas.%s is paired with no Go type in wireTypes", name)
		}
	}
	inTable := map[string]bool{}
	for _, w := range wireTypes {
		inTable[w.typ.Name()] = true
	}
	for _, name := range parseAPIPackage(t).structs {
		if !inTable[name] && !goStructsNotOnTheWire[name] {
			t.Errorf("api.%s has no schema in openapi.yaml (add it and a wireTypes entry)", name)
		}
	}
}

func TestOpenAPIEnumsMatchConstants(t *testing.T) {
	doc := loadSpec(t)
	pkg := parseAPIPackage(t)

	detail := schemaRef(t, doc, "ErrorDetail")
	if code := detail.Properties["code"]; code == nil || code.Value == nil {
		t.Error("ErrorDetail.code is missing")
	} else {
		sameSet(t, "Code* constants in errors.go", pkg.consts("Code"), "ErrorDetail.code enum", enumStrings(t, code.Value))
	}
	if details := detail.Properties["details"]; details == nil || details.Value == nil {
		t.Error("ErrorDetail.details is missing")
	} else {
		sameSet(t, "Detail* constants in errors.go", pkg.consts("Detail"), "ErrorDetail.details properties", sortedKeys(details.Value.Properties))
	}
	// Reason* are revoke reasons, but for ReasonDPoP, the reason of an
	// invalid_token: details.reason is either.
	revokeReasons := slices.DeleteFunc(pkg.consts("Reason"), func(r string) bool { return r == api.ReasonDPoP })
	sameSet(t, "Reason* constants in errors.go but ReasonDPoP", revokeReasons, "RevokeReason enum", enumStrings(t, schemaRef(t, doc, "RevokeReason")))
	if details := detail.Properties["details"]; details != nil && details.Value != nil {
		r := details.Value.Properties["reason"]
		if r == nil || r.Value == nil || len(r.Value.AnyOf) != 2 || r.Value.AnyOf[0].Ref != "#/components/schemas/RevokeReason" ||
			r.Value.AnyOf[1].Value == nil || !slices.Equal(enumStrings(t, r.Value.AnyOf[1].Value), []string{api.ReasonDPoP}) {
			t.Errorf("ErrorDetail.details.reason must be anyOf [RevokeReason, enum [%s]]", api.ReasonDPoP)
		}
	}

	if typ := schemaRef(t, doc, "AuditEvent").Properties["type"]; typ == nil || typ.Value == nil {
		t.Error("AuditEvent.type is missing")
	} else {
		sameSet(t, "api.AuditTypes", api.AuditTypes, "AuditEvent.type enum", enumStrings(t, typ.Value))
	}
	sameSet(t, "Audit* constants in events.go", pkg.consts("Audit"), "api.AuditTypes", api.AuditTypes)
	if st := schemaRef(t, doc, "Closure").Properties["state"]; st == nil || st.Value == nil {
		t.Error("Closure.state is missing")
	} else {
		sameSet(t, "Closure* constants in types.go", pkg.consts("Closure"), "Closure.state enum", enumStrings(t, st.Value))
	}

	for _, ref := range []struct{ schema, prop string }{
		{"Session", "revoke_reason"},
		{"SessionRevokedEvent", "reason"},
	} {
		if p := schemaRef(t, doc, ref.schema).Properties[ref.prop]; p == nil || p.Ref != "#/components/schemas/RevokeReason" {
			t.Errorf("%s.%s must be a $ref to RevokeReason", ref.schema, ref.prop)
		}
	}
}

func TestOpenAPIEventStream(t *testing.T) {
	doc := loadSpec(t)
	op := specOperations(doc)["GET /v1/events"]
	if op == nil {
		t.Fatal("GET /v1/events is missing")
	}
	ok := op.Responses.Status(200)
	if ok == nil || ok.Value == nil || ok.Value.Content["text/event-stream"] == nil {
		t.Fatal("GET /v1/events must answer 200 text/event-stream")
	}
	raw, found := op.Extensions["x-sse-events"].(map[string]any)
	if !found {
		t.Fatalf("GET /v1/events: x-sse-events must map event names to payload schemas, got %T", op.Extensions["x-sse-events"])
	}
	sameSet(t, "Event* constants in events.go", parseAPIPackage(t).consts("Event"), "x-sse-events", sortedKeys(raw))
	for name, v := range raw {
		schema, _ := v.(string)
		if doc.Components.Schemas[schema] == nil {
			t.Errorf("x-sse-events.%s names schema %q, which does not exist", name, schema)
		}
		if !strings.Contains(op.Description, "`"+name+"`") {
			t.Errorf("GET /v1/events: the description does not mention event %s", name)
		}
	}
	if !strings.Contains(op.Description, "15 seconds") {
		t.Error("GET /v1/events: the description must mention the 15 s comment line")
	}
}

// apiPackage is what the test reads from package api's source.
type apiPackage struct {
	constants map[string]string // exported string constant name → value
	structs   []string          // exported struct type names
}

func (p apiPackage) consts(prefix string) []string {
	var vals []string
	for name, v := range p.constants {
		if strings.HasPrefix(name, prefix) {
			vals = append(vals, v)
		}
	}
	slices.Sort(vals)
	return vals
}

// parseAPIPackage reads the non-test Go files of package api, so constants
// and types added there are noticed without touching this test.
func parseAPIPackage(t *testing.T) apiPackage {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	pkg := apiPackage{constants: map[string]string{}}
	fset := token.NewFileSet()
	for _, file := range files {
		if strings.HasSuffix(file, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, file, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, decl := range f.Decls {
			gen, ok := decl.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, spec := range gen.Specs {
				switch spec := spec.(type) {
				case *ast.ValueSpec:
					if gen.Tok != token.CONST {
						continue
					}
					for i, name := range spec.Names {
						if !name.IsExported() {
							continue
						}
						if i >= len(spec.Values) {
							t.Fatalf("%s: constant %s has no literal value; extend parseAPIPackage", fset.Position(name.Pos()), name.Name)
						}
						lit, ok := spec.Values[i].(*ast.BasicLit)
						if _, expr := spec.Values[i].(*ast.BinaryExpr); expr {
							continue // a duration (ApprovalLifetime …), not a wire name
						}
						if ok && lit.Kind == token.INT {
							continue // a limit (InstallKeyMinLen …), not a wire name
						}
						if !ok || lit.Kind != token.STRING {
							t.Fatalf("%s: constant %s is not a string literal; extend parseAPIPackage", fset.Position(name.Pos()), name.Name)
						}
						v, err := strconv.Unquote(lit.Value)
						if err != nil {
							t.Fatal(err)
						}
						pkg.constants[name.Name] = v
					}
				case *ast.TypeSpec:
					if _, ok := spec.Type.(*ast.StructType); ok && spec.Name.IsExported() {
						pkg.structs = append(pkg.structs, spec.Name.Name)
					}
				}
			}
		}
	}
	if len(pkg.constants) == 0 || len(pkg.structs) == 0 {
		t.Fatalf("parsed no constants or structs from %v: is the test running in the api directory?", files)
	}
	return pkg
}

func enumStrings(t *testing.T, s *openapi3.Schema) []string {
	t.Helper()
	var out []string
	for _, v := range s.Enum {
		str, ok := v.(string)
		if !ok {
			t.Errorf("enum value %v is a %T, want string", v, v)
			continue
		}
		out = append(out, str)
	}
	return out
}

// sameSet reports, both ways, the members of one list missing from the other,
// and duplicates.
func sameSet(t *testing.T, aName string, a []string, bName string, b []string) {
	t.Helper()
	set := func(name string, xs []string) map[string]bool {
		m := map[string]bool{}
		for _, x := range xs {
			if m[x] {
				t.Errorf("%s lists %q twice", name, x)
			}
			m[x] = true
		}
		return m
	}
	as, bs := set(aName, a), set(bName, b)
	for _, x := range sortedKeys(as) {
		if !bs[x] {
			t.Errorf("%q is in %s but not in %s", x, aName, bName)
		}
	}
	for _, x := range sortedKeys(bs) {
		if !as[x] {
			t.Errorf("%q is in %s but not in %s", x, bName, aName)
		}
	}
}

func deref(p *float64) string {
	if p == nil {
		return "none"
	}
	return strconv.FormatFloat(*p, 'g', -1, 64)
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
