package server

// The security log you can prove: GET /v1/audit/export streams the
// account's chained events and a head signed with the server's Ed25519
// key; GET /v1/server-key gives the key; VerifyAudit checks every
// account's chain in the database (sessiond audit verify).

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"time"

	"sessionguard/api"
	"sessionguard/api/auditchain"
	"sessionguard/server/store"
)

// AuditKeyFile is the audit signing key's file name beside a SQLite
// database (sessiond serve and the app's embedded server).
const AuditKeyFile = "audit-signing.key"

// exportsPerAccount is how many exports of one account may run at once:
// a stolen token asking for the whole log over and over gets one more,
// not the server's time.
const exportsPerAccount = 2

// exportSlots counts the exports running per account.
type exportSlots struct {
	mu      sync.Mutex
	running map[string]int
}

// take claims a slot for the account, or reports there is none.
func (x *exportSlots) take(acct string) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.running[acct] >= exportsPerAccount {
		return false
	}
	if x.running == nil {
		x.running = map[string]int{}
	}
	x.running[acct]++
	return true
}

func (x *exportSlots) release(acct string) {
	x.mu.Lock()
	defer x.mu.Unlock()
	if x.running[acct]--; x.running[acct] <= 0 {
		delete(x.running, acct)
	}
}

// exportPage is how many events the export reads from the store at a
// time: its memory does not grow with the log.
const exportPage = 1000

// newAuditKey is cfg's signing key, or a key for this process only.
func newAuditKey(seed []byte) (ed25519.PrivateKey, bool) {
	if len(seed) == ed25519.SeedSize {
		return ed25519.NewKeyFromSeed(seed), true
	}
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return key, false
}

// AuditPublicKey is the key the server signs audit heads with.
func (s *Server) AuditPublicKey() ed25519.PublicKey {
	return s.auditKey.Public().(ed25519.PublicKey)
}

func (s *Server) handleServerKey(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, auditchain.EncodeServerKey(s.AuditPublicKey()))
	return nil
}

func (s *Server) handleAuditExport(w http.ResponseWriter, r *http.Request) error {
	q, err := query(r)
	if err != nil {
		return err
	}
	var after int64
	if v := q.Get("after_seq"); v != "" {
		if after, err = strconv.ParseInt(v, 10, 64); err != nil || after < 0 {
			return errInvalid("after_seq", "after_seq must be a whole number, 0 or more.")
		}
	}
	acct := callerFrom(r.Context()).session.AccountID
	if !s.exports.take(acct) {
		e := errRateLimited(5 * time.Second)
		e.msg = "An export of this account's security log is already running. Try again when it is done."
		return e
	}
	defer s.exports.release(acct)
	// The export ends at the head read now: events appended while it
	// streams belong to the next one.
	head, err := s.store.AuditHead(r.Context(), acct)
	if err != nil {
		return storeErr(err)
	}
	w.Header().Set("Content-Type", api.NDJSONType)
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", `attachment; filename="security-log.ndjson"`)
	w.WriteHeader(http.StatusOK)
	rc := http.NewResponseController(w)
	enc := json.NewEncoder(w)
	for after < head.Seq {
		page, err := s.store.AuditSince(r.Context(), acct, after, int(min(exportPage, head.Seq-after)))
		if err != nil || len(page) == 0 {
			// The status is sent: end without the signed head, which the
			// reader takes as cut short.
			s.log.Warn("audit export cut short", "account", acct, "after", after, "err", err)
			return nil
		}
		for _, e := range page {
			if err := enc.Encode(e); err != nil {
				return nil // the client went away
			}
		}
		after = page[len(page)-1].Seq
		_ = rc.Flush()
	}
	head.At = s.now()
	_ = enc.Encode(auditchain.SignHead(s.auditKey, head))
	return nil
}

// AuditReport is what VerifyAudit checked.
type AuditReport struct {
	Accounts int64
	Events   int64
}

// VerifyAudit checks every account's log in st: each event chained by the
// rule (Seq from 1 without gaps, prev_hash the hash before, its hash
// recomputed) and the recorded head (read before the walk) on its chain,
// none of its events missing. It may run while sessiond writes. The first break
// found, by account then Seq, is returned as an *auditchain.BreakError.
// progress, when not nil, is called every 100,000 events. Its memory grows
// with the number of accounts (their heads), not of events.
func VerifyAudit(ctx context.Context, st store.Store, progress func(AuditReport)) (AuditReport, error) {
	var rep AuditReport
	heads := map[string]api.AuditHead{}
	if err := st.WalkAuditHeads(ctx, func(h api.AuditHead) error {
		heads[h.AccountID] = h
		return nil
	}); err != nil {
		return rep, err
	}
	var (
		v    *auditchain.Verifier
		acct string
		head api.AuditHead
		had  bool // acct has a recorded head
	)
	// The heads are read first: events written during the walk may go on
	// past an account's head (a chain that continues is fine); the event
	// at the head must be the head, and none may be missing before it.
	finish := func() error {
		if v == nil {
			return nil
		}
		last, _ := v.Last()
		switch {
		case !had:
			return &auditchain.BreakError{AccountID: acct, Seq: last, Reason: "the account's recorded head is missing"}
		case last < head.Seq:
			return &auditchain.BreakError{AccountID: acct, Seq: last + 1,
				Reason: fmt.Sprintf("missing: the head says the log ends at event %d", head.Seq)}
		}
		return nil
	}
	err := st.WalkAudit(ctx, func(accountID string, e api.AuditEvent) error {
		if v == nil || accountID != acct {
			if err := finish(); err != nil {
				return err
			}
			v, acct = auditchain.NewVerifier(accountID), accountID
			head, had = heads[acct]
			delete(heads, acct)
			if !had { // an account whose first event came after the heads were read
				h, err := st.AuditHead(ctx, acct)
				if err != nil {
					return err
				}
				head, had = h, h.Seq > 0
			}
			rep.Accounts++
		}
		if err := v.Add(e); err != nil {
			return err
		}
		if had && e.Seq == head.Seq && e.Hash != head.Hash {
			return &auditchain.BreakError{AccountID: acct, Seq: e.Seq, Reason: "the head's hash differs from the event's"}
		}
		rep.Events++
		if progress != nil && rep.Events%100_000 == 0 {
			progress(rep)
		}
		return nil
	})
	if err == nil {
		err = finish()
	}
	if err != nil {
		return rep, err
	}
	// Heads whose events are all gone, first by account.
	for _, id := range slices.Sorted(maps.Keys(heads)) {
		if h := heads[id]; h.Seq > 0 {
			return rep, &auditchain.BreakError{AccountID: id, Seq: 1,
				Reason: fmt.Sprintf("missing: the head says the log ends at event %d, but it has none", h.Seq)}
		}
	}
	return rep, nil
}
