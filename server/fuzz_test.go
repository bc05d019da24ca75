package server

import (
	"errors"
	"strings"
	"testing"

	"sessionguard/api"
)

// checkDecoded asserts what a decoder must always do: succeed, or fail with
// a 400 invalid_request that has a message — never panic, never another error.
func checkDecoded(t *testing.T, err error) {
	if err == nil {
		return
	}
	var ae *apiError
	if !errors.As(err, &ae) || ae.status != 400 || ae.code != api.CodeInvalidRequest || ae.msg == "" {
		t.Fatalf("decode error %v is not a 400 invalid_request with a message", err)
	}
}

func FuzzDecodeLogin(f *testing.F) {
	for _, s := range []string{
		`{"username":"ana","password":"pw","remember":true,"device":{"id":"d","name":"n"}}`,
		`{"username":1}`, `{"device":{"id":["x"]}}`, `[]`, `null`, `{`, ``, `{"a":1}{}`,
		`{"device":{"name":"\u0000"}}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var req api.LoginRequest
		err := decodeBody(strings.NewReader(body), &req, false)
		checkDecoded(t, err)
		if err == nil {
			if err := checkCredentials(req.Username, req.Password); err == nil {
				checkDecoded(t, checkDevice(&req.Device))
			} else {
				checkDecoded(t, err)
			}
		}
	})
}

func FuzzDecodeRemembered(f *testing.F) {
	for _, s := range []string{
		`{"credential":"sgm_x","device":{"id":"d"},"remember":false}`, `{"credential":5}`, `"str"`, `{"device":null}`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var req api.RememberedLoginRequest
		err := decodeBody(strings.NewReader(body), &req, false)
		checkDecoded(t, err)
		if err == nil {
			checkDecoded(t, checkDevice(&req.Device))
		}
	})
}

func FuzzDecodeSmallBodies(f *testing.F) {
	for _, s := range []string{`{"remember":true}`, `{"refresh_token":"x"}`, `{"password":"p","code":"1"}`, ``, `{"remember":1}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		checkDecoded(t, decodeBody(strings.NewReader(body), &api.LogoutRequest{}, true))
		checkDecoded(t, decodeBody(strings.NewReader(body), &api.RefreshRequest{}, false))
		checkDecoded(t, decodeBody(strings.NewReader(body), &api.ReauthRequest{}, false))
		checkDecoded(t, decodeBody(strings.NewReader(body), &api.CreateAccountRequest{}, false))
	})
}

func FuzzSessionCursor(f *testing.F) {
	f.Add(encodeSessionCursor(beforeAll))
	f.Add("bm9wZQ")
	f.Add("")
	f.Fuzz(func(t *testing.T, v string) {
		c, err := decodeSessionCursor(v)
		if err != nil {
			checkDecoded(t, err)
			return
		}
		if back := encodeSessionCursor(*c); back == "" {
			t.Fatal("cursor did not round-trip")
		}
	})
}
