package storetest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"
	"unicode/utf16"

	"sessionguard/api"
	"sessionguard/server/store"
)

// The hash rule, written here a second time, independently of
// api/auditchain: the event as the wire carries it (encoding/json), its
// "hash" member dropped, in RFC 8785 canonical form built from the decoded
// JSON value (members sorted by UTF-16 code units, strings escaped as the
// RFC says), after prev_hash and "\n", through SHA-256.

// refHash is e's hash by the rule.
func refHash(e api.AuditEvent) string {
	b, err := json.Marshal(e)
	if err != nil {
		panic(err)
	}
	var v map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	if err := d.Decode(&v); err != nil {
		panic(err)
	}
	delete(v, "hash")
	var buf bytes.Buffer
	buf.WriteString(e.PrevHash)
	buf.WriteByte('\n')
	jcs(&buf, v)
	sum := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(sum[:])
}

// jcs writes v, a decoded JSON value, in RFC 8785 canonical form.
func jcs(buf *bytes.Buffer, v any) {
	switch v := v.(type) {
	case nil:
		buf.WriteString("null")
	case bool:
		buf.WriteString(strconv.FormatBool(v))
	case json.Number:
		// The log's numbers are integers (seq); RFC 8785 writes them as
		// ECMAScript does, which for safe integers is plain decimal.
		n, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil || n > 1<<53 || n < -(1<<53) {
			panic(fmt.Sprintf("jcs: number %s is not a safe integer", v))
		}
		buf.WriteString(strconv.FormatInt(n, 10))
	case string:
		jcsString(buf, v)
	case []any:
		buf.WriteByte('[')
		for i, x := range v {
			if i > 0 {
				buf.WriteByte(',')
			}
			jcs(buf, x)
		}
		buf.WriteByte(']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b string) int {
			return slices.Compare(utf16.Encode([]rune(a)), utf16.Encode([]rune(b)))
		})
		buf.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				buf.WriteByte(',')
			}
			jcsString(buf, k)
			buf.WriteByte(':')
			jcs(buf, v[k])
		}
		buf.WriteByte('}')
	default:
		panic(fmt.Sprintf("jcs: unexpected %T", v))
	}
}

// jcsString writes s as RFC 8785 section 3.2.2.2 says.
func jcsString(buf *bytes.Buffer, s string) {
	buf.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			buf.WriteString(`\"`)
		case r == '\\':
			buf.WriteString(`\\`)
		case r == '\b':
			buf.WriteString(`\b`)
		case r == '\f':
			buf.WriteString(`\f`)
		case r == '\n':
			buf.WriteString(`\n`)
		case r == '\r':
			buf.WriteString(`\r`)
		case r == '\t':
			buf.WriteString(`\t`)
		case r < 0x20:
			fmt.Fprintf(buf, `\u%04x`, r)
		default:
			buf.WriteRune(r)
		}
	}
	buf.WriteByte('"')
}

// refChain links events after (seq, hash) by the rule, as a store must:
// times normalized as the wire carries them (UTC, microseconds).
func refChain(seq int64, hash string, events ...api.AuditEvent) []api.AuditEvent {
	out := make([]api.AuditEvent, len(events))
	for i, e := range events {
		seq++
		e.At = e.At.UTC().Truncate(time.Microsecond)
		e.Seq, e.PrevHash = seq, hash
		e.Hash = refHash(e)
		hash = e.Hash
		out[i] = e
	}
	return out
}

// verifyChain checks the account's whole log by the rule: Seq 1, 2, 3…,
// each prev_hash the hash before, each hash recomputed, and the head at the
// last event. It returns the log, oldest first.
func (f *fixture) verifyChain(accountID string) []api.AuditEvent {
	f.t.Helper()
	var log []api.AuditEvent
	for {
		after := int64(0)
		if len(log) > 0 {
			after = log[len(log)-1].Seq
		}
		page, err := f.s.AuditSince(f.ctx, accountID, after, 97)
		ok(f.t, "AuditSince", err)
		log = append(log, page...)
		if len(page) < 97 {
			break
		}
	}
	prev := api.GenesisHash
	for i, e := range log {
		if e.Seq != int64(i+1) {
			f.t.Errorf("account %s: event %d has Seq %d (a gap or a fork)", accountID, i+1, e.Seq)
			return log
		}
		if e.PrevHash != prev {
			f.t.Errorf("account %s: event %d: prev_hash %.12s, want %.12s", accountID, e.Seq, e.PrevHash, prev)
		}
		if h := refHash(e); e.Hash != h {
			f.t.Errorf("account %s: event %d: hash %.12s, the rule gives %.12s", accountID, e.Seq, e.Hash, h)
		}
		prev = e.Hash
	}
	head, err := f.s.AuditHead(f.ctx, accountID)
	ok(f.t, "AuditHead", err)
	want := api.AuditHead{AccountID: accountID, Seq: int64(len(log)), Hash: prev}
	if len(log) > 0 {
		want.At = log[len(log)-1].At
	}
	check(f.t, "AuditHead of "+accountID, head, want)
	return log
}

// unchained is e without its place in the chain, to compare with an event
// as it was given to the store.
func unchained(e api.AuditEvent) api.AuditEvent {
	e.Seq, e.PrevHash, e.Hash = 0, "", ""
	return e
}

// recordsOf is log (oldest first) as ListAudit returns it: newest first.
func recordsOf(accountID string, log []api.AuditEvent) []store.AuditRecord {
	out := make([]store.AuditRecord, 0, len(log))
	for _, e := range slices.Backward(log) {
		out = append(out, store.AuditRecord{Seq: e.Seq, AccountID: accountID, Event: e})
	}
	return out
}

// chainedRecord puts e, chained by the rule after recs[0] (recs newest
// first, of one account), in front of recs.
func chainedRecord(recs []store.AuditRecord, accountID string, e api.AuditEvent) []store.AuditRecord {
	seq, hash := int64(0), api.GenesisHash
	if len(recs) > 0 {
		seq, hash = recs[0].Seq, recs[0].Event.Hash
	}
	e = refChain(seq, hash, e)[0]
	return slices.Insert(recs, 0, store.AuditRecord{Seq: e.Seq, AccountID: accountID, Event: e})
}
