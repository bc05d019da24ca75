package app

// The security log you can prove: the app remembers the newest signed head
// of each account's log it has seen and, on every later view, checks that
// the server's log still holds that event unchanged and extends it; and it
// exports the whole log, verified, for safekeeping.

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"sessionguard/api"
	"sessionguard/api/auditchain"
	"sessionguard/client"
)

// LogState is how the last check of the security log ended.
type LogState int

// The outcomes of a check of the security log.
const (
	// LogUnchecked: not checked yet (or the server could not be reached).
	LogUnchecked LogState = iota
	// LogVerified: the log extends the head seen before, every event since
	// is chained, and the server signed where it ends.
	LogVerified
	// LogRewritten: the log no longer holds an event seen before as it
	// was, or an event changed after it was written. The app keeps its
	// copy of the head it saw (LogCheck.Evidence).
	LogRewritten
	// LogUnverifiable: the log could not be checked against what was seen
	// before (the server signs with another key now, say).
	LogUnverifiable
)

func (s LogState) String() string {
	switch s {
	case LogUnchecked:
		return "unchecked"
	case LogVerified:
		return "verified"
	case LogRewritten:
		return "rewritten"
	case LogUnverifiable:
		return "unverifiable"
	}
	return "LogState(?)"
}

// LogCheck is the outcome of the last check of the security log.
type LogCheck struct {
	State LogState
	// Events is how many events the log holds, when verified.
	Events int64
	// First is true for the first check of this account's log on this
	// device: there was no head seen before to check it against.
	First bool
	// At is when the check ran.
	At time.Time
	// Problem says what is wrong, in words for the person (LogRewritten,
	// LogUnverifiable).
	Problem string
	// Evidence is the head this app had kept from an earlier view, signed
	// by the server, which the log no longer extends (LogRewritten), and
	// SeenAt when the app saw it.
	Evidence *api.SignedAuditHead
	SeenAt   time.Time
}

// ExportResult is what ExportActivity saved.
type ExportResult struct {
	// Events is how many events the export holds.
	Events int64
	// Head is where the log ended, as the server signed it.
	Head api.AuditHead
	// Problem is empty when the export verified: every event chained and
	// the head signed by this server's key (the one this app pinned). Else
	// it says why not, in words; the file was saved all the same.
	Problem string
}

// ExportActivity writes the account's whole security log to w as the
// server's NDJSON export (GET /v1/audit/export), verifying it on the way,
// and remembers its head as seen. An error means nothing usable was
// written (w may hold part of it).
func (a *App) ExportActivity(ctx context.Context, w io.Writer) (ExportResult, error) {
	return a.exportActivity(ctx, w)
}

// Preference keys of the security log check, followed by the account
// scoped by its server (scopedID).
const (
	// PrefAuditHeadPrefix: the newest signed head seen of the account's
	// log, with the server key that signed it and when it was seen (JSON
	// keptHead), which later views must find extended.
	PrefAuditHeadPrefix = "audit.head:"
	// PrefAuditEvidencePrefix: the head the log no longer extends, kept
	// once a rewrite is found (JSON keptHead with Problem), so the proof
	// outlives this app's later views.
	PrefAuditEvidencePrefix = "audit.evidence:"
)

// keptHead is a signed head as the app keeps it.
type keptHead struct {
	Signed api.SignedAuditHead `json:"signed"`
	// Key is the server key that signed it (base64, as GET
	// /v1/server-key gives it): the key pinned for the account.
	Key    string    `json:"key"`
	SeenAt time.Time `json:"seen_at"`
	// Problem and FoundAt are set on evidence: what was found, when.
	Problem string    `json:"problem,omitempty"`
	FoundAt time.Time `json:"found_at,omitzero"`
}

func (a *App) headPref(accountID string) string {
	return PrefAuditHeadPrefix + scopedID(accountID, a.cfg.Server)
}

func (a *App) evidencePref(accountID string) string {
	return PrefAuditEvidencePrefix + scopedID(accountID, a.cfg.Server)
}

// readKept reads a keptHead preference (nil: none, or unreadable).
func (a *App) readKept(key string) *keptHead {
	v := a.cfg.Prefs.String(key)
	if v == "" {
		return nil
	}
	var k keptHead
	if err := json.Unmarshal([]byte(v), &k); err != nil {
		return nil
	}
	return &k
}

func (a *App) writeKept(key string, k keptHead) {
	b, err := json.Marshal(k)
	if err == nil {
		a.cfg.Prefs.SetString(key, string(b))
	}
}

// serverKey fetches the server's audit signing key.
func (a *App) serverKey(ctx context.Context) (ed25519.PublicKey, string, error) {
	k, err := a.api.ServerKey(ctx)
	if err != nil {
		return nil, "", err
	}
	pub, err := auditchain.ParseServerKey(k)
	if err != nil {
		return nil, "", err
	}
	return pub, k.PublicKey, nil
}

// exportRead is what readExport found: the verified result, why it did
// not verify (verr), and why the export itself failed (err).
type exportRead struct {
	res       auditchain.ExportResult
	verr, err error
}

// readExport runs export (which writes the server's export to the writer
// it is given) while auditchain.ReadExport verifies what it writes.
func readExport(pub ed25519.PublicKey, opt auditchain.ReadOptions, export func(io.Writer) error) exportRead {
	pr, pw := io.Pipe()
	done := make(chan exportRead, 1)
	go func() {
		res, err := auditchain.ReadExport(pr, pub, opt)
		_, _ = io.Copy(io.Discard, pr) // let the writer finish after a break
		done <- exportRead{res: res, verr: err}
	}()
	err := export(pw)
	pw.CloseWithError(err)
	r := <-done
	r.err = err
	return r
}

// checkLog checks the server's log against the head this app kept for the
// signed-in account: from that event on, every event chained and the new
// head signed by the key pinned with it. The first look keeps the newest
// head as the starting point. The outcome goes into Snapshot.LogCheck; a
// rewrite keeps the old head as evidence. Failures to reach the server
// leave the check as it was.
func (a *App) checkLog(ctx context.Context, gen int) {
	snap := a.Snapshot()
	if snap.Account == nil {
		return
	}
	acct := snap.Account.ID
	pub, keyB64, err := a.serverKey(ctx)
	if err != nil {
		return
	}
	kept := a.readKept(a.headPref(acct))
	if kept != nil && kept.Key != keyB64 {
		a.setLogCheck(gen, LogCheck{State: LogUnverifiable, At: a.cfg.Now(), Evidence: &kept.Signed, SeenAt: kept.SeenAt,
			Problem: "This server now signs its log with a different key than when you last looked, so Sessionguard can't check that the log still holds what you saw."})
		return
	}
	opt := auditchain.ReadOptions{AccountID: acct, Anywhere: true}
	var after int64
	if kept != nil && kept.Signed.Head.Seq > 0 {
		known := kept.Signed.Head
		opt.From, after = &known, known.Seq-1
	} else if len(snap.Activity) > 0 {
		after = snap.Activity[0].Seq - 1 // a first look: from the newest event
	}
	r := readExport(pub, opt, func(w io.Writer) error {
		return a.api.ExportAudit(client.Background(ctx), after, w)
	})
	if r.err != nil {
		return
	}
	a.judgeLog(gen, acct, kept, keyB64, r.res, r.verr)
}

// judgeLog records what a read of the log found (verr nil: verified).
func (a *App) judgeLog(gen int, acct string, kept *keptHead, keyB64 string, res auditchain.ExportResult, verr error) {
	now := a.cfg.Now()
	var rw *auditchain.RewrittenError
	var br *auditchain.BreakError
	switch {
	case verr == nil:
		if kept == nil || res.Head.Head.Seq >= kept.Signed.Head.Seq {
			a.writeKept(a.headPref(acct), keptHead{Signed: res.Head, Key: keyB64, SeenAt: now})
		}
		a.setLogCheck(gen, LogCheck{State: LogVerified, Events: res.Head.Head.Seq, At: now, First: kept == nil})
	case errors.As(verr, &rw) || errors.As(verr, &br):
		problem := logProblem(verr)
		check := LogCheck{State: LogRewritten, At: now, Problem: problem}
		if kept != nil {
			ev := a.readKept(a.evidencePref(acct))
			if ev == nil || ev.Signed != kept.Signed {
				e := *kept
				e.Problem, e.FoundAt = problem, now
				a.writeKept(a.evidencePref(acct), e)
			}
			check.Evidence, check.SeenAt = &kept.Signed, kept.SeenAt
		}
		a.setLogCheck(gen, check)
	default:
		a.setLogCheck(gen, LogCheck{State: LogUnverifiable, At: now, Problem: logProblem(verr)})
	}
}

func (a *App) setLogCheck(gen int, c LogCheck) {
	a.update(func(s *Snapshot) {
		if a.currentLocked(gen) {
			s.LogCheck = c
		}
	})
}

// logProblem says what a failed read of the log found, in words.
func logProblem(err error) string {
	var rw *auditchain.RewrittenError
	var br *auditchain.BreakError
	switch {
	case errors.As(err, &rw) && rw.Found == "":
		return fmt.Sprintf("event %s, which you saw before, is no longer in it", Thousands(rw.Known.Seq))
	case errors.As(err, &rw):
		return fmt.Sprintf("event %s is not the one you saw before", Thousands(rw.Known.Seq))
	case errors.As(err, &br):
		return fmt.Sprintf("event %s: %s", Thousands(br.Seq), br.Reason)
	case errors.Is(err, auditchain.ErrBadSignature):
		return "its signature is not this server's"
	}
	return err.Error()
}

// Thousands writes n with comma separators, as the screens show counts:
// 1,204.
func Thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	for i := len(s) - 3; i > 0 && s[i-1] != '-'; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func (a *App) exportActivity(ctx context.Context, w io.Writer) (ExportResult, error) {
	snap := a.Snapshot()
	if snap.State != StateSignedIn || snap.Account == nil {
		return ExportResult{}, ErrNotSignedIn
	}
	gen := a.generation()
	acct := snap.Account.ID
	pub, keyB64, err := a.serverKey(ctx)
	if err != nil {
		return ExportResult{}, err
	}
	kept := a.readKept(a.headPref(acct))
	opt := auditchain.ReadOptions{AccountID: acct}
	if kept != nil {
		known := kept.Signed.Head
		opt.Holds = &known
	}
	r := readExport(pub, opt, func(pw io.Writer) error {
		return a.api.ExportAudit(ctx, 0, io.MultiWriter(w, pw))
	})
	if r.err != nil {
		return ExportResult{}, r.err
	}
	res, verr := r.res, r.verr
	out := ExportResult{Events: res.Events, Head: res.Head.Head}
	if verr == nil && kept != nil && kept.Key != keyB64 {
		verr = errors.New("it is signed by a different key than the one this server used when you last looked")
	}
	if verr != nil {
		out.Problem = capitalize(logProblem(verr)) + "."
	}
	if kept == nil || kept.Key == keyB64 {
		a.judgeLog(gen, acct, kept, keyB64, res, verr)
	}
	return out, nil
}
