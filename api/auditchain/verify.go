package auditchain

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"sessionguard/api"
)

// BreakError is where an account's log stops proving itself: the first
// event (by Seq) that is missing, out of place or changed, or a head that
// is not where the chain ends.
type BreakError struct {
	AccountID string
	Seq       int64
	Reason    string
}

func (e *BreakError) Error() string {
	if e.AccountID == "" {
		return fmt.Sprintf("event %d: %s", e.Seq, e.Reason)
	}
	return fmt.Sprintf("account %s, event %d: %s", e.AccountID, e.Seq, e.Reason)
}

// Verifier checks one account's events in order, one at a time, in
// constant memory.
type Verifier struct {
	accountID string
	last      api.AuditEvent // Seq 0 and GenesisHash before the first
	count     int64
}

// NewVerifier checks a log from its first event.
func NewVerifier(accountID string) *Verifier {
	return &Verifier{accountID: accountID, last: api.AuditEvent{Hash: api.GenesisHash}}
}

// NewVerifierAfter checks a log from the event after (seq, hash), an event
// already known good.
func NewVerifierAfter(accountID string, seq int64, hash string) *Verifier {
	return &Verifier{accountID: accountID, last: api.AuditEvent{Seq: seq, Hash: hash}}
}

// Add checks that e follows the last event added: the next Seq, its
// PrevHash the last Hash, its Hash the rule's.
func (v *Verifier) Add(e api.AuditEvent) error {
	switch {
	case e.Seq != v.last.Seq+1:
		return v.broken(v.last.Seq+1, fmt.Sprintf("missing or out of place (found event %d next)", e.Seq))
	case e.PrevHash != v.last.Hash:
		return v.broken(e.Seq, "it does not follow the event before it (prev_hash differs)")
	case Hash(e) != e.Hash:
		return v.broken(e.Seq, "changed after it was written (its hash does not match its content)")
	}
	v.last = e
	v.count++
	return nil
}

// CheckHead checks that the chain ends at h.
func (v *Verifier) CheckHead(h api.AuditHead) error {
	if h.Seq != v.last.Seq {
		if h.Seq > v.last.Seq {
			return v.broken(v.last.Seq+1, fmt.Sprintf("missing: the head says the log ends at event %d", h.Seq))
		}
		return v.broken(h.Seq+1, fmt.Sprintf("the head says the log ends at event %d, but it goes on to %d", h.Seq, v.last.Seq))
	}
	if h.Hash != v.last.Hash {
		return v.broken(h.Seq, "the head's hash differs from the event's")
	}
	return nil
}

// Count is how many events were added.
func (v *Verifier) Count() int64 { return v.count }

// Last is the Seq and Hash of the last event added (the starting point
// before any).
func (v *Verifier) Last() (int64, string) { return v.last.Seq, v.last.Hash }

func (v *Verifier) broken(seq int64, reason string) error {
	return &BreakError{AccountID: v.accountID, Seq: seq, Reason: reason}
}

// RewrittenError is a log that no longer holds an event the reader saw
// before: the server's history was changed (or rolled back) since.
type RewrittenError struct {
	// Known is the head the reader kept.
	Known api.AuditHead
	// Found is the hash the log now has at Known.Seq ("" if it has no
	// such event).
	Found string
}

func (e *RewrittenError) Error() string {
	if e.Found == "" {
		return fmt.Sprintf("the log no longer has event %d, which was seen before", e.Known.Seq)
	}
	return fmt.Sprintf("event %d is not the one seen before (hash %.12s…, was %.12s…)", e.Known.Seq, e.Found, e.Known.Hash)
}

// ExportResult is what ReadExport verified.
type ExportResult struct {
	// Events is how many events the export held.
	Events int64
	// Head is its signed head.
	Head api.SignedAuditHead
}

// MaxLine is the longest line ReadExport accepts.
const MaxLine = 1 << 20

// ReadOptions say where an export must start and what it must hold.
type ReadOptions struct {
	// AccountID is the account the head must be signed for ("" accepts
	// the head's).
	AccountID string
	// From, when set, is an event seen before: the export starts at it
	// (asked for with after_seq = From.Seq-1) and it must still have
	// From.Hash; else a *RewrittenError. Without From (and without
	// Anywhere) the export must start at the account's first event.
	From *api.AuditHead
	// Anywhere accepts an export that starts at any event, taking the
	// first as given (a first look at a log, from its newest page).
	Anywhere bool
	// Holds, when set, is an event seen before that the export must
	// hold unchanged, wherever it is; else a *RewrittenError.
	Holds *api.AuditHead
}

// ReadExport reads an export (GET /v1/audit/export) and verifies it as opt
// says: every event chained to the one before, the last line a head signed
// by key at the last event.
func ReadExport(r io.Reader, key ed25519.PublicKey, opt ReadOptions) (ExportResult, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), MaxLine)
	v := NewVerifier(opt.AccountID)
	var (
		res     ExportResult
		line    int
		gotHead bool
		first   = true
		held    bool
	)
	for sc.Scan() {
		line++
		b := sc.Bytes()
		if len(bytes.TrimSpace(b)) == 0 {
			continue
		}
		if gotHead {
			return res, fmt.Errorf("export line %d: more after the signed head", line)
		}
		var probe struct {
			Head *json.RawMessage `json:"head"`
		}
		if err := json.Unmarshal(b, &probe); err != nil {
			return res, fmt.Errorf("export line %d is not JSON: %w", line, err)
		}
		if probe.Head != nil {
			if err := json.Unmarshal(b, &res.Head); err != nil {
				return res, fmt.Errorf("export line %d: %w", line, err)
			}
			gotHead = true
			continue
		}
		var e api.AuditEvent
		if err := json.Unmarshal(b, &e); err != nil {
			return res, fmt.Errorf("export line %d: %w", line, err)
		}
		if h := opt.Holds; h != nil && e.Seq == h.Seq {
			if e.Hash != h.Hash {
				return res, &RewrittenError{Known: *h, Found: e.Hash}
			}
			held = true
		}
		if first && (opt.From != nil || opt.Anywhere) {
			first = false
			if k := opt.From; k != nil && (e.Seq != k.Seq || e.Hash != k.Hash) {
				found := ""
				if e.Seq == k.Seq {
					found = e.Hash
				}
				return res, &RewrittenError{Known: *k, Found: found}
			}
			if Hash(e) != e.Hash {
				return res, &BreakError{AccountID: opt.AccountID, Seq: e.Seq, Reason: "changed after it was written (its hash does not match its content)"}
			}
			v = NewVerifierAfter(opt.AccountID, e.Seq, e.Hash)
			res.Events++
			continue
		}
		first = false
		if err := v.Add(e); err != nil {
			return res, err
		}
	}
	if err := sc.Err(); err != nil {
		return res, fmt.Errorf("reading the export: %w", err)
	}
	if !gotHead {
		return res, errors.New("the export ends without its signed head (it was cut short)")
	}
	head := res.Head.Head
	if opt.AccountID != "" && head.AccountID != opt.AccountID {
		return res, fmt.Errorf("the export is of account %s, not this one", head.AccountID)
	}
	if k := opt.From; k != nil && first {
		// Nothing at or after the known event.
		if head.Seq < k.Seq {
			return res, &RewrittenError{Known: *k}
		}
		return res, fmt.Errorf("the export does not include event %d", k.Seq)
	}
	if !(first && opt.Anywhere) {
		if err := v.CheckHead(head); err != nil {
			return res, err
		}
	}
	if h := opt.Holds; h != nil && !held && h.Seq > 0 {
		return res, &RewrittenError{Known: *h}
	}
	if err := VerifyHead(key, res.Head); err != nil {
		return res, err
	}
	res.Events += v.Count()
	return res, nil
}
