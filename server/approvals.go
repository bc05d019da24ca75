package server

// Approval of new sign-ins and linking a device with a code (issue 17).
//
// An account with Settings.ApproveNewDevices and at least one live
// session does not let a password sign-in (after its second factor, when
// two-step verification is on) from an install that never signed in to it
// start a session: the sign-in waits (POST /v1/login/approval) for one of
// the live devices to pick the number it shows (POST
// /v1/login/approvals/{id}), or for a recovery code (POST /v1/login/mfa
// with the approval token). A device without a password typed on it asks
// for a link code (POST /v1/link/start), which a signed-in device approves
// (POST /v1/link/approve) and the device then polls (POST /v1/link/poll).
//
// The waiting device's poll is held up to Config.ApprovalPollWait and
// woken at once by the answer: on this replica directly (publish), on the
// others by the answer's event coming back through the Bus (Deliver).

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"math/big"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"sessionguard/api"
	"sessionguard/server/store"
	"sessionguard/server/token"
)

// eventApprovalWake is a bus event for no stream: it wakes the polls of a
// link (whose account had no streams to tell) on every replica.
const eventApprovalWake = "internal.approval_wake"

// waiters are the polls waiting on this replica, by approval ID.
type waiters struct {
	mu sync.Mutex
	m  map[string]map[chan struct{}]struct{}
}

func newWaiters() *waiters { return &waiters{m: map[string]map[chan struct{}]struct{}{}} }

// add registers a wait for id; the channel gets a value on wake. Call
// the returned function when done.
func (w *waiters) add(id string) (chan struct{}, func()) {
	ch := make(chan struct{}, 1)
	w.mu.Lock()
	if w.m[id] == nil {
		w.m[id] = map[chan struct{}]struct{}{}
	}
	w.m[id][ch] = struct{}{}
	w.mu.Unlock()
	return ch, func() {
		w.mu.Lock()
		delete(w.m[id], ch)
		if len(w.m[id]) == 0 {
			delete(w.m, id)
		}
		w.mu.Unlock()
	}
}

func (w *waiters) wake(id string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for ch := range w.m[id] {
		select {
		case ch <- struct{}{}:
		default:
		}
	}
}

// wakeFor wakes the polls an event answers: login.approval_resolved and
// the link wake, whether its Data is the struct (this replica) or JSON
// (from the bus).
func (s *Server) wakeFor(e Event) {
	if e.Name != api.EventApprovalResolved && e.Name != eventApprovalWake {
		return
	}
	var id string
	switch d := e.Data.(type) {
	case api.LoginApprovalResolvedEvent:
		id = d.ID
	case json.RawMessage:
		var v api.LoginApprovalResolvedEvent
		if json.Unmarshal(d, &v) == nil {
			id = v.ID
		}
	case []byte:
		var v api.LoginApprovalResolvedEvent
		if json.Unmarshal(d, &v) == nil {
			id = v.ID
		}
	}
	if id != "" {
		s.waiters.wake(id)
	}
}

// needsApproval reports whether a sign-in to acct from install ih (nil:
// none) must wait for a live device's approval.
func (s *Server) needsApproval(ctx context.Context, acct store.Account, ih []byte, now time.Time) (bool, error) {
	if !acct.Settings.ApproveNewDevices {
		return false, nil
	}
	known, err := s.knownInstall(ctx, acct.ID, ih)
	if err != nil || known {
		return false, err
	}
	live, err := s.store.ListSessions(ctx, acct.ID, "", now, nil, 1)
	if err != nil {
		return false, storeErr(err)
	}
	return len(live) > 0, nil
}

// waitingSignIn is a sign-in that passed its password (and second factor)
// and now waits for approval.
type waitingSignIn struct {
	device   api.Device
	ip       netip.Addr
	install  []byte
	remember bool
	detail   string // how it proved itself, for the sign-in's event
}

// randInt is a uniform number in [0, n).
func randInt(n int) int {
	v, err := rand.Int(rand.Reader, big.NewInt(int64(n)))
	if err != nil {
		panic(err) // crypto/rand does not fail
	}
	return int(v.Int64())
}

// approvalNumbers are the number the new device shows (10 to 99) and the
// three the approvers choose from, shuffled, one of them the number.
func approvalNumbers() (int, []int) {
	n := 10 + randInt(90)
	nums := []int{n}
	for len(nums) < 3 {
		d := 10 + randInt(90)
		dup := false
		for _, x := range nums {
			dup = dup || x == d
		}
		if !dup {
			nums = append(nums, d)
		}
	}
	for i := len(nums) - 1; i > 0; i-- {
		j := randInt(i + 1)
		nums[i], nums[j] = nums[j], nums[i]
	}
	return n, nums
}

// startApproval makes the sign-in wait: it stores the approval with its
// audit event, asks the account's streams and answers the new device.
func (s *Server) startApproval(ctx context.Context, w http.ResponseWriter, acct store.Account, in waitingSignIn, now time.Time) error {
	tok := token.New(token.PrefixApproval)
	number, numbers := approvalNumbers()
	a := store.Approval{ID: token.NewID("apr_"), Kind: store.ApprovalLogin, TokenHash: token.Hash(tok), AccountID: acct.ID,
		Number: number, Device: in.device, Remember: in.remember, InstallHash: in.install,
		IP: ipString(in.ip), Location: s.locate(in.ip), CreatedAt: now, ExpiresAt: now.Add(api.ApprovalLifetime)}
	ev := s.stamp(s.eventFrom(in.ip, in.device.Name, api.AuditApprovalRequested,
		in.detail+"; waiting for approval from a signed-in device"))
	ev.At = now
	if err := s.store.CreateApproval(ctx, a, ev); err != nil {
		return storeErr(err)
	}
	s.metrics.logins.WithLabelValues("approval_required").Inc()
	s.publish(Event{AccountID: acct.ID, Name: api.EventApprovalRequested, Data: api.LoginApprovalRequestedEvent{
		ID: a.ID, Device: a.Device, IP: a.IP, Location: a.Location, At: now, ExpiresAt: a.ExpiresAt, Numbers: numbers}})
	writeJSON(w, http.StatusOK, api.Login{ApprovalRequired: true, ApprovalToken: tok,
		Approval: &api.Approval{ID: a.ID, Number: number, ExpiresAt: a.ExpiresAt}})
	return nil
}

func errLoginDenied() *apiError {
	return &apiError{status: http.StatusForbidden, code: api.CodeLoginDenied,
		msg: "This sign-in was refused on one of your devices."}
}

func errExpired(msg string) *apiError {
	return &apiError{status: http.StatusGone, code: api.CodeExpired, msg: msg}
}

const (
	approvalGone = "This sign-in request has expired. Sign in again."
	linkGone     = "This code has expired. Ask for a new one."
)

// handleDecideApproval is POST /v1/login/approvals/{id}: a live device of
// the account answers a waiting sign-in. A wrong number denies.
func (s *Server) handleDecideApproval(w http.ResponseWriter, r *http.Request, req api.ApprovalDecision) error {
	id := r.PathValue("id")
	if id == "" || len(id) > 64 {
		return errNotFound("No such sign-in request.")
	}
	c, ctx, now := callerFrom(r.Context()), r.Context(), s.now()
	wrong := false
	a, err := s.store.DecideApproval(ctx, store.ApprovalAnswer{ID: id, AccountID: c.session.AccountID, At: now,
		BySessionID: c.session.ID, ByDevice: c.session.Device.Name,
		Approve: func(a store.Approval) bool {
			wrong = req.Approve && subtle.ConstantTimeEq(int32(req.Number), int32(a.Number)) != 1
			return req.Approve && !wrong
		},
		Audit: func(a store.Approval) []api.AuditEvent {
			typ, detail := api.AuditApprovalApproved, "Approved on "+c.session.Device.Name
			if a.State == store.ApprovalDenied {
				typ, detail = api.AuditApprovalDenied, "Denied on "+c.session.Device.Name
				if wrong {
					detail = "Wrong number picked on " + c.session.Device.Name
				}
			}
			e := s.stamp(api.AuditEvent{Type: typ, IP: a.IP, Location: a.Location, DeviceName: a.Device.Name,
				SessionID: c.session.ID, TargetDeviceName: c.session.Device.Name, Detail: detail})
			e.At = now
			return []api.AuditEvent{e}
		}})
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errNotFound("No such sign-in request.")
	case errors.Is(err, store.ErrConflict):
		if a.State == store.ApprovalPending {
			return errExpired("This sign-in request has expired.")
		}
		return errExpired("This sign-in request was already answered.")
	case err != nil:
		return storeErr(err)
	}
	outcome := "approved"
	if a.State == store.ApprovalDenied {
		outcome = "denied"
		s.countDenial(a)
	}
	s.publish(Event{AccountID: a.AccountID, Name: api.EventApprovalResolved,
		Data: api.LoginApprovalResolvedEvent{ID: a.ID, Outcome: outcome}})
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// countDenial counts a denied sign-in as a failed one of its account from
// its address, so a device denied again and again is held back.
func (s *Server) countDenial(a store.Approval) {
	acct, err := s.store.Account(context.Background(), a.AccountID)
	if err != nil {
		return
	}
	ip, _ := netip.ParseAddr(a.IP)
	for _, b := range s.signInBuckets(acct.Username, ip, acct.ID, a.InstallHash, false) {
		b.l.Fail(b.key)
	}
}

// handlePollApproval is POST /v1/login/approval.
func (s *Server) handlePollApproval(w http.ResponseWriter, r *http.Request, req api.ApprovalPollRequest) error {
	if req.ApprovalToken == "" {
		return errInvalid("approval_token", "approval_token is required: the token POST /v1/login returned.")
	}
	if err := checkInstallKey(req.InstallKey); err != nil {
		return err
	}
	return s.poll(w, r, store.ApprovalLogin, req.ApprovalToken, req.InstallKey, approvalGone)
}

// handleLinkPoll is POST /v1/link/poll.
func (s *Server) handleLinkPoll(w http.ResponseWriter, r *http.Request, req api.LinkPollRequest) error {
	if req.LinkToken == "" {
		return errInvalid("link_token", "link_token is required: the token POST /v1/link/start returned.")
	}
	return s.poll(w, r, store.ApprovalLink, req.LinkToken, "", linkGone)
}

// poll answers a waiting device: 200 with its session once approved, 403
// once denied, 410 when expired, used or unknown, and 202 after waiting
// up to ApprovalPollWait for an answer.
func (s *Server) poll(w http.ResponseWriter, r *http.Request, kind, tok, installKey, gone string) error {
	ctx, ip, h := r.Context(), s.clientIP(r), token.Hash(tok)
	var (
		wake   chan struct{}
		done   func()
		timer  *time.Timer
		waited bool
	)
	defer func() {
		if done != nil {
			done()
		}
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		a, err := s.store.ApprovalByToken(ctx, h)
		if errors.Is(err, store.ErrNotFound) || err == nil && (a.Kind != kind ||
			installKey != "" && subtle.ConstantTimeCompare(installHash(installKey), a.InstallHash) != 1) {
			return s.failUnknownApproval(ip, gone)
		}
		if err != nil {
			return storeErr(err)
		}
		now := s.now()
		switch a.State {
		case store.ApprovalApproved:
			return s.finishApproval(ctx, w, ip, h, gone)
		case store.ApprovalDenied:
			return errLoginDenied()
		case store.ApprovalUsed:
			return errExpired(gone)
		}
		if !a.ExpiresAt.After(now) {
			return errExpired(gone)
		}
		if waited {
			writeJSON(w, http.StatusAccepted, api.ApprovalPending{Pending: true})
			return nil
		}
		if wake == nil {
			// Registered before the second read, so an answer between
			// the two is not missed.
			wake, done = s.waiters.add(a.ID)
			timer = time.NewTimer(s.cfg.ApprovalPollWait)
			continue
		}
		select {
		case <-wake:
		case <-timer.C:
			waited = true
		case <-time.After(5 * time.Second): // an answer whose event was lost; and expiry
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// failUnknownApproval answers a token that matches nothing (410, as an
// expired one) and counts it against the address like other unknown
// sign-in credentials.
func (s *Server) failUnknownApproval(ip netip.Addr, gone string) error {
	key := "ip:" + addrKey(ip)
	if wait, ok := s.ipLimit.Check(key); !ok {
		return errRateLimited(wait)
	}
	s.ipLimit.Fail(key)
	return errExpired(gone)
}

// finishApproval spends an approved approval and starts its session.
func (s *Server) finishApproval(ctx context.Context, w http.ResponseWriter, ip netip.Addr, h []byte, gone string) error {
	a, err := s.store.ConsumeApproval(ctx, h)
	if errors.Is(err, store.ErrConflict) || errors.Is(err, store.ErrNotFound) {
		return errExpired(gone) // another poll took it
	}
	if err != nil {
		return storeErr(err)
	}
	acct, err := s.account(ctx, a.AccountID)
	if err != nil {
		return err
	}
	now := s.now()
	detail, typ, result := "Approved on "+a.DecidedByDevice, api.AuditLoginSucceeded, "approved"
	if a.Kind == store.ApprovalLink {
		detail, typ, result = "Linked with a code from "+a.DecidedByDevice, api.AuditDeviceLinked, "linked"
	}
	if a.Remember {
		detail += "; stays signed in"
	}
	return s.signIn(ctx, w, result, newSession{acct: acct, device: a.Device, ip: ip, install: a.InstallHash,
		remember: a.Remember, now: now, authTime: now,
		audit: []api.AuditEvent{{Type: typ, Detail: detail, TargetDeviceName: a.DecidedByDevice, TargetSessionID: a.DecidedBySessionID}}})
}

// skipApproval is POST /v1/login/mfa with an approval token: a recovery
// code (and only a recovery code: a TOTP code comes from the same phone
// that may be lost or stolen with the password... and the device asking
// already passed it) lets the waiting sign-in in without approval.
func (s *Server) skipApproval(w http.ResponseWriter, r *http.Request, req api.MFALoginRequest) error {
	ctx, ip, now, h := r.Context(), s.clientIP(r), s.now(), token.Hash(req.MFAToken)
	a, err := s.store.ApprovalByToken(ctx, h)
	if errors.Is(err, store.ErrNotFound) || err == nil && (a.Kind != store.ApprovalLogin ||
		req.InstallKey != "" && subtle.ConstantTimeCompare(installHash(req.InstallKey), a.InstallHash) != 1) {
		return s.failUnknownCredential(ip, approvalGone)
	}
	if err != nil {
		return storeErr(err)
	}
	if a.State != store.ApprovalPending || !a.ExpiresAt.After(now) {
		return errInvalidCredentials(approvalGone)
	}
	acct, err := s.account(ctx, a.AccountID)
	if err != nil {
		return err
	}
	if !acct.MFAEnabled {
		return errInvalidCredentials("Only a recovery code can skip approval, and this account has none: approve the sign-in on one of your devices.")
	}
	try, err := s.signInAttempt(ctx, acct.Username, ip, acct.ID, a.InstallHash)
	if err != nil {
		return err
	}
	defer try.finish()
	canon, ok := canonicalRecoveryCode(compactCode(req.Code))
	used := false
	if ok {
		if used, err = s.store.UseRecoveryCode(ctx, acct.ID, recoveryHash(acct.ID, canon)); err != nil {
			return storeErr(err)
		}
	}
	if !used {
		try.failed = true
		if err := s.audit(ctx, acct.ID, s.eventFrom(ip, a.Device.Name, api.AuditLoginMFAFailed, "Wrong recovery code")); err != nil {
			return err
		}
		return errInvalidCredentials("That recovery code is not right.")
	}
	// Answer the request as approved by the recovery code, then spend it.
	decided, err := s.store.DecideApproval(ctx, store.ApprovalAnswer{ID: a.ID, AccountID: acct.ID, At: now,
		ByDevice: a.Device.Name, Approve: func(store.Approval) bool { return true }})
	if err != nil {
		return errInvalidCredentials(approvalGone) // answered meanwhile
	}
	if _, err := s.store.ConsumeApproval(ctx, h); err != nil {
		return errInvalidCredentials(approvalGone)
	}
	s.publish(Event{AccountID: acct.ID, Name: api.EventApprovalResolved,
		Data: api.LoginApprovalResolvedEvent{ID: decided.ID, Outcome: "approved"}})
	usedDetail, err := s.recoveryCodeUsedDetail(ctx, acct.ID, "to sign in without approval")
	if err != nil {
		return err
	}
	detail := "Password, two-step and recovery code (approval skipped)"
	if a.Remember {
		detail += "; stays signed in"
	}
	return s.signIn(ctx, w, "succeeded", newSession{acct: acct, device: a.Device, ip: ip, install: a.InstallHash,
		remember: a.Remember, now: now, authTime: now,
		audit: []api.AuditEvent{{Type: api.AuditRecoveryCodeUsed, Detail: usedDetail}, {Type: api.AuditLoginSucceeded, Detail: detail}}})
}

// userCodeAlphabet has no look-alikes (no 0, O, 1, I).
const userCodeAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// newUserCode is a fresh code, "ABCD-EFGH".
func newUserCode() string {
	b := make([]byte, 9)
	for i := range b {
		if i == 4 {
			b[i] = '-'
			continue
		}
		b[i] = userCodeAlphabet[randInt(len(userCodeAlphabet))]
	}
	return string(b)
}

// canonicalUserCode reads a code as typed (any case, with or without the
// dash and spaces); ok is false when it cannot be one.
func canonicalUserCode(s string) (string, bool) {
	if len(s) > 32 {
		return "", false
	}
	var b strings.Builder
	for _, r := range strings.ToUpper(s) {
		switch {
		case r == '-' || r == ' ':
		case strings.ContainsRune(userCodeAlphabet, r):
			b.WriteRune(r)
		default:
			return "", false
		}
	}
	c := b.String()
	if len(c) != 8 {
		return "", false
	}
	return c[:4] + "-" + c[4:], true
}

func userCodeHash(code string) []byte { return token.Hash("link:" + code) }

// handleLinkStart is POST /v1/link/start.
func (s *Server) handleLinkStart(w http.ResponseWriter, r *http.Request, req api.LinkStartRequest) error {
	if err := checkDevice(&req.Device); err != nil {
		return err
	}
	if err := checkInstallKey(req.InstallKey); err != nil {
		return err
	}
	ip, now := s.clientIP(r), s.now()
	// Every code asked for counts against the address, like a failed
	// sign-in: codes cannot be farmed.
	key := "ip:" + addrKey(ip)
	if wait, ok := s.ipLimit.Check(key); !ok {
		return errRateLimited(wait)
	}
	s.ipLimit.Fail(key)
	tok, code := token.New(token.PrefixLink), newUserCode()
	a := store.Approval{ID: token.NewID("lnk_"), Kind: store.ApprovalLink, TokenHash: token.Hash(tok), CodeHash: userCodeHash(code),
		Device: req.Device, Remember: req.Remember, InstallHash: installHash(req.InstallKey),
		IP: ipString(ip), Location: s.locate(ip), CreatedAt: now, ExpiresAt: now.Add(api.LinkLifetime)}
	if err := s.store.CreateApproval(r.Context(), a); err != nil {
		return storeErr(err)
	}
	writeJSON(w, http.StatusOK, api.LinkStart{LinkToken: tok, UserCode: code, ExpiresAt: a.ExpiresAt})
	return nil
}

// handleLinkApprove is POST /v1/link/approve: with check, what the code
// would let in; else (step-up) let it in. Wrong codes count against the
// session and its address like wrong passwords.
func (s *Server) handleLinkApprove(w http.ResponseWriter, r *http.Request, req api.LinkApproveRequest) error {
	c, ctx, now := callerFrom(r.Context()), r.Context(), s.now()
	keys := []bucket{{s.acctLimit, "link:" + c.session.ID}, {s.ipLimit, "ip:" + addrKey(c.ip)}}
	for _, b := range keys {
		if wait, ok := b.l.Check(b.key); !ok {
			return errRateLimited(wait)
		}
	}
	wrongCode := func() error {
		for _, b := range keys {
			b.l.Fail(b.key)
		}
		return errNotFound("That code is not right. Check it on the other device.")
	}
	code, ok := canonicalUserCode(req.UserCode)
	if !ok {
		return wrongCode()
	}
	if !req.Check {
		if err := s.stepUp(c.session, now); err != nil {
			return err
		}
	}
	a, err := s.store.ApprovalByCode(ctx, userCodeHash(code))
	if errors.Is(err, store.ErrNotFound) {
		return wrongCode()
	}
	if err != nil {
		return storeErr(err)
	}
	if a.State != store.ApprovalPending || !a.ExpiresAt.After(now) {
		return errExpired(linkGone)
	}
	if req.Check {
		writeJSON(w, http.StatusOK, api.LinkPreview{Device: a.Device, IP: a.IP, Location: a.Location, At: a.CreatedAt})
		return nil
	}
	a, err = s.store.DecideApproval(ctx, store.ApprovalAnswer{CodeHash: userCodeHash(code), AccountID: c.session.AccountID, At: now,
		BySessionID: c.session.ID, ByDevice: c.session.Device.Name,
		Approve: func(store.Approval) bool { return true },
		Audit: func(a store.Approval) []api.AuditEvent {
			e := s.stamp(api.AuditEvent{Type: api.AuditApprovalApproved, IP: a.IP, Location: a.Location, DeviceName: a.Device.Name,
				SessionID: c.session.ID, TargetDeviceName: c.session.Device.Name,
				Detail: "Link code approved on " + c.session.Device.Name})
			e.At = now
			return []api.AuditEvent{e}
		}})
	switch {
	case errors.Is(err, store.ErrConflict):
		return errExpired(linkGone)
	case errors.Is(err, store.ErrNotFound):
		return wrongCode()
	case err != nil:
		return storeErr(err)
	}
	s.publish(Event{Name: eventApprovalWake, Data: api.LoginApprovalResolvedEvent{ID: a.ID, Outcome: "approved"}})
	w.WriteHeader(http.StatusNoContent)
	return nil
}
