package auditchain_test

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"sessionguard/api"
	"sessionguard/api/auditchain"
)

var at = time.Date(2026, 12, 7, 1, 2, 3, 456789000, time.UTC)

func event(i int) api.AuditEvent {
	return api.AuditEvent{ID: fmt.Sprintf("evt_%d", i), At: at.Add(time.Duration(i) * time.Second), Type: api.AuditLoginSucceeded,
		IP: "203.0.113.7", Location: api.Location{City: "Zürich", Region: "Zurich", Country: "Switzerland", CountryCode: "CH"},
		SessionID: "ses_1", DeviceName: `Ana's "Pixel" <8> & ☎` + "\t\x01\u2028", Detail: "Password"}
}

// TestCanonicalIsTheWireJSONSorted: the canonical form is the event's wire
// JSON, without hash, members sorted, no HTML escaping, no spaces.
func TestCanonicalIsTheWireJSONSorted(t *testing.T) {
	for _, e := range []api.AuditEvent{event(1), {ID: "evt_min", Type: "logout"}, func() api.AuditEvent {
		e := event(2)
		e.TargetSessionID, e.TargetDeviceName, e.Seq, e.PrevHash = "ses_2", "Tablet", 7, api.GenesisHash
		return e
	}()} {
		e = auditchain.Normalize(e)
		got := auditchain.Canonical(nil, e)
		var fromCanon, fromWire map[string]any
		if err := json.Unmarshal(got, &fromCanon); err != nil {
			t.Fatalf("canonical form is not JSON: %v\n%s", err, got)
		}
		wire, _ := json.Marshal(e)
		_ = json.Unmarshal(wire, &fromWire)
		delete(fromWire, "hash")
		if fmt.Sprint(fromCanon) != fmt.Sprint(fromWire) {
			t.Errorf("canonical form holds\n%v\nthe wire holds\n%v", fromCanon, fromWire)
		}
		// encoding/json sorts map keys and, without HTML escaping, writes
		// these strings as RFC 8785 does.
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(fromWire)
		// encoding/json escapes U+2028 even so; RFC 8785 does not.
		want := strings.ReplaceAll(strings.TrimSuffix(buf.String(), "\n"), `\u2028`, "\u2028")
		if string(got) != want {
			t.Errorf("canonical\n%s\nwant\n%s", got, want)
		}
	}
}

// TestHashVector pins the hash of one event: a change of the rule (the
// canonical form, the separator, the time format) makes every stored
// chain stop verifying, so it must show here first.
func TestHashVector(t *testing.T) {
	e := auditchain.Link(nil, event(1))
	if e.Seq != 1 || e.PrevHash != api.GenesisHash {
		t.Fatalf("first event: seq %d prev %s", e.Seq, e.PrevHash)
	}
	if got := auditchain.Hash(e); got != e.Hash || len(got) != 64 {
		t.Fatalf("hash %s, link gave %s", got, e.Hash)
	}
	if e.Hash != hashVector {
		t.Errorf("hash of the vector event = %s, want %s", e.Hash, hashVector)
	}
}

// hashVector is the hash of Link(nil, event(1)), computed once outside Go:
// Python's json.dumps(e, ensure_ascii=False, sort_keys=True,
// separators=(",", ":")) of the event (which for these members and strings
// is RFC 8785's form), after 64 zeros and "\n", through hashlib.sha256.
const hashVector = "23233f95b824c1d7165ec88b5f492de14cf8b8ef1561d56317c0226f9026de29"

func chain(n int) []api.AuditEvent {
	log := make([]api.AuditEvent, n)
	for i := range log {
		log[i] = event(i)
	}
	auditchain.Chain(0, api.GenesisHash, log)
	return log
}

func export(t testing.TB, key ed25519.PrivateKey, acct string, log []api.AuditEvent) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	for _, e := range log {
		_ = enc.Encode(e)
	}
	h := api.AuditHead{AccountID: acct, Hash: api.GenesisHash, At: at}
	if len(log) > 0 {
		h.Seq, h.Hash = log[len(log)-1].Seq, log[len(log)-1].Hash
	}
	_ = enc.Encode(auditchain.SignHead(key, h))
	return buf.Bytes()
}

func TestReadExport(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(nil)
	pub := key.Public().(ed25519.PublicKey)
	_, other, _ := ed25519.GenerateKey(nil)
	log := chain(6)
	edited := chain(6)
	edited[2].Detail = "edited"
	rechained := chain(6)
	rechained[2].Detail = "edited"
	auditchain.Chain(0, api.GenesisHash, rechained)
	known := api.AuditHead{AccountID: "acc", Seq: 4, Hash: log[3].Hash}
	var (
		brk *auditchain.BreakError
		rw  *auditchain.RewrittenError
	)
	for _, tc := range []struct {
		name   string
		data   []byte
		opt    auditchain.ReadOptions
		events int64
		want   any // nil, an error to errors.Is, or a pointer to errors.As
	}{
		{"whole", export(t, key, "acc", log), auditchain.ReadOptions{AccountID: "acc"}, 6, nil},
		{"empty log", export(t, key, "acc", nil), auditchain.ReadOptions{AccountID: "acc"}, 0, nil},
		{"from a known event", export(t, key, "acc", log[3:]), auditchain.ReadOptions{AccountID: "acc", From: &known}, 3, nil},
		{"anywhere", export(t, key, "acc", log[2:]), auditchain.ReadOptions{Anywhere: true}, 4, nil},
		{"holds the known event", export(t, key, "acc", log), auditchain.ReadOptions{Holds: &known}, 6, nil},
		{"another key", export(t, other, "acc", log), auditchain.ReadOptions{}, 0, auditchain.ErrBadSignature},
		{"edited", export(t, key, "acc", edited), auditchain.ReadOptions{}, 0, &brk},
		{"a middle event gone", export(t, key, "acc", append(append([]api.AuditEvent{}, log[:2]...), log[3:]...)), auditchain.ReadOptions{}, 0, &brk},
		{"not from the start", export(t, key, "acc", log[1:]), auditchain.ReadOptions{}, 0, &brk},
		{"rechained, read from the known event", export(t, key, "acc", rechained[3:]), auditchain.ReadOptions{From: &known}, 0, &rw},
		{"rechained, holds the known event", export(t, key, "acc", rechained), auditchain.ReadOptions{Holds: &known}, 0, &rw},
		{"cut back before the known event", export(t, key, "acc", log[:2]), auditchain.ReadOptions{Holds: &known}, 0, &rw},
		{"cut back, from the known event", export(t, key, "acc", nil), auditchain.ReadOptions{From: &known}, 0, &rw},
		{"another account", export(t, key, "bob", log), auditchain.ReadOptions{AccountID: "acc"}, 0, "account bob"},
		{"cut short", bytes.SplitAfter(export(t, key, "acc", log), []byte("\n"))[0], auditchain.ReadOptions{}, 0, "cut short"},
		{"more after the head", append(export(t, key, "acc", log), `{"id":"x"}`+"\n"...), auditchain.ReadOptions{}, 0, "after the signed head"},
		{"not JSON", []byte("{\n"), auditchain.ReadOptions{}, 0, "not JSON"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := auditchain.ReadExport(bytes.NewReader(tc.data), pub, tc.opt)
			switch w := tc.want.(type) {
			case nil:
				if err != nil || res.Events != tc.events {
					t.Fatalf("%d events, %v; want %d, nil", res.Events, err, tc.events)
				}
			case error:
				if !errors.Is(err, w) {
					t.Fatalf("err %v, want %v", err, w)
				}
			case string:
				if err == nil || !strings.Contains(err.Error(), w) {
					t.Fatalf("err %v, want one saying %q", err, w)
				}
			default:
				if !errors.As(err, w) {
					t.Fatalf("err %v (%T), want %T", err, err, w)
				}
			}
		})
	}
}

// FuzzReadExport: whatever a server sends, reading it ends with a result
// or an error, never a panic, and never verifies what was not signed.
func FuzzReadExport(f *testing.F) {
	_, key, _ := ed25519.GenerateKey(nil)
	pub := key.Public().(ed25519.PublicKey)
	f.Add(export(f, key, "acc", chain(3)))
	f.Add([]byte(`{"head":{"seq":0}}`))
	f.Add([]byte("{\"seq\":1}\n{\"head\":null}"))
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := auditchain.ReadExport(bytes.NewReader(data), pub, auditchain.ReadOptions{})
		if err == nil && auditchain.VerifyHead(pub, res.Head) != nil {
			t.Fatalf("verified an export whose head is not signed: %s", data)
		}
	})
}
