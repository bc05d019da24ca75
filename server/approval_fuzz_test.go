package server

import (
	"strings"
	"testing"

	"sessionguard/api"
)

// FuzzDecodeApprovals feeds the bodies of the approval and link calls to
// their decoders, and what they carry to the checks behind them: a 400
// invalid_request or success, never a panic; a user code is read as one
// only in its canonical shape.
func FuzzDecodeApprovals(f *testing.F) {
	for _, s := range []string{
		`{"approval_token":"sgp_x","install_key":"k8Yq3-p0_fJ2nW7xLr5tVa9cZe1uHb6mDg4sQy"}`,
		`{"approve":true,"number":42}`, `{"approve":"yes"}`, `{"number":1e99}`,
		`{"device":{"id":"d","name":"Library PC"},"remember":true}`,
		`{"user_code":"ABCD-EFGH","check":true}`, `{"user_code":"abcd efgh"}`, `{"user_code":"ABCD-EFG0"}`,
		`{"user_code":"ÅBCD-EFGH"}`, `{"link_token":""}`, `[]`, `null`, `{`, ``,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var poll api.ApprovalPollRequest
		if err := decodeBody(strings.NewReader(body), &poll, false); err == nil {
			checkDecoded(t, checkInstallKey(poll.InstallKey))
		} else {
			checkDecoded(t, err)
		}
		var dec api.ApprovalDecision
		checkDecoded(t, decodeBody(strings.NewReader(body), &dec, false))
		var start api.LinkStartRequest
		if err := decodeBody(strings.NewReader(body), &start, false); err == nil {
			checkDecoded(t, checkDevice(&start.Device))
		} else {
			checkDecoded(t, err)
		}
		var lp api.LinkPollRequest
		checkDecoded(t, decodeBody(strings.NewReader(body), &lp, false))
		var la api.LinkApproveRequest
		err := decodeBody(strings.NewReader(body), &la, false)
		checkDecoded(t, err)
		if err != nil {
			return
		}
		code, ok := canonicalUserCode(la.UserCode)
		if !ok {
			return
		}
		if len(code) != 9 || code[4] != '-' {
			t.Fatalf("code %q read as %q", la.UserCode, code)
		}
		for i, r := range code {
			if i != 4 && !strings.ContainsRune(userCodeAlphabet, r) {
				t.Fatalf("code %q read as %q", la.UserCode, code)
			}
		}
		if again, ok := canonicalUserCode(code); !ok || again != code {
			t.Fatalf("canonical code %q is not stable", code)
		}
	})
}
