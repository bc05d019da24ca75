package app

import (
	"context"
	"errors"
	"slices"
	"time"

	"sessionguard/api"
	"sessionguard/client"
)

// Approve new sign-ins from a device you trust, link a device with a code
// (DESIGN "Approve new sign-ins, link a device with a code").
//
// The new device: a sign-in the server holds for approval puts the app in
// StateAwaitingApproval with Snapshot.Approval (the number to show); a
// link started with StartLink does the same with Snapshot.LinkCode (the
// code to show). A background loop asks the server for the answer, which
// it holds until there is one, so the app learns it at once.
//
// A signed-in device: Snapshot.ApprovalRequests are the sign-ins waiting
// for it (from the event stream); DecideApproval answers one. CheckLink and
// ApproveLink let a device in by its code.

// ApprovalWait is this device's sign-in waiting for approval: Number is
// what the approving device must pick.
type ApprovalWait struct {
	Number    int
	ExpiresAt time.Time
}

// LinkWait is this device waiting for its code to be approved.
type LinkWait struct {
	UserCode  string
	ExpiresAt time.Time
}

// ApprovalRequest is a sign-in to the account waiting for this device's
// approval: the new device, where it is, and the numbers to pick from.
type ApprovalRequest = api.LoginApprovalRequestedEvent

// waiting is the answer the background loop waits for: an approval or a
// link, with its token (never in the Snapshot).
type waiting struct {
	token    string
	link     bool
	remember bool
}

// awaitApproval enters StateAwaitingApproval for l (a sign-in the server
// holds) and starts asking for the answer.
func (a *App) awaitApproval(l api.Login, remember bool) {
	a.mu.Lock()
	a.gen++
	gen := a.gen
	a.approvalWait = waiting{token: l.ApprovalToken, remember: remember}
	a.mu.Unlock()
	a.finish(func(s *Snapshot) {
		s.Approval, s.LinkCode = &ApprovalWait{Number: l.Approval.Number, ExpiresAt: l.Approval.ExpiresAt}, nil
		a.transition(s, EvApprovalRequired)
	})
	a.pollAnswer(gen)
}

// StartLink asks the server for a code a signed-in device can approve, so
// that this device signs in without its password being typed here; the
// app waits in StateAwaitingApproval with Snapshot.LinkCode.
func (a *App) StartLink(ctx context.Context, remember bool) error {
	remember = remember && a.cfg.Secrets != nil
	a.begin("Making a code…")
	a.update(func(s *Snapshot) { a.transition(s, EvSignInStarted) })
	ls, err := a.api.StartLink(ctx, api.LinkStartRequest{Device: a.cfg.Device(), InstallKey: a.signInKey(), Remember: remember})
	if err != nil {
		return a.signInFailed(err)
	}
	a.mu.Lock()
	a.gen++
	gen := a.gen
	a.approvalWait = waiting{token: ls.LinkToken, link: true, remember: remember}
	a.mu.Unlock()
	a.finish(func(s *Snapshot) {
		s.Approval, s.LinkCode = nil, &LinkWait{UserCode: ls.UserCode, ExpiresAt: ls.ExpiresAt}
		a.transition(s, EvApprovalRequired)
	})
	a.pollAnswer(gen)
	return nil
}

// pollAnswer asks the server, in the background, for the answer to the
// approval or link of sign-in gen, until there is one. Each ask waits at
// the server until the answer comes (or a while passes), so the app
// learns it at once; a lost network is retried with short waits.
func (a *App) pollAnswer(gen int) {
	stopCtx, stop := context.WithCancel(context.Background())
	a.mu.Lock()
	w := a.approvalWait
	if a.stopPoll != nil {
		a.stopPoll()
	}
	a.stopPoll = stop // cancelled when the wait ends here (detach)
	a.wg.Add(1)
	a.mu.Unlock()
	go func() {
		defer a.wg.Done()
		defer stop()
		backoff := 250 * time.Millisecond
		for a.current(gen) {
			ctx, cancel := context.WithTimeout(stopCtx, api.ApprovalPollWait+15*time.Second)
			var l api.Login
			var err error
			if w.link {
				l, err = a.api.PollLink(ctx, w.token)
			} else {
				l, err = a.api.PollApproval(ctx, w.token, a.signInKey())
			}
			cancel()
			if !a.current(gen) {
				// Cancelled meanwhile (CancelApproval, a recovery code): a
				// session the answer made is ended, not left signed in.
				if err == nil {
					a.endUnwanted(l)
				}
				return
			}
			switch {
			case err == nil:
				a.approved(gen, l, w.remember)
				return
			case errors.Is(err, client.ErrApprovalPending):
				backoff = 250 * time.Millisecond
				continue
			case errors.Is(err, client.ErrLoginDenied):
				a.approvalOver(gen, "Your sign-in was refused on your other device. If that wasn't you, sign in there and change your password.")
				return
			case errors.Is(err, client.ErrExpired):
				a.approvalOver(gen, "Nobody approved the sign-in in time. Try again, with a signed-in device at hand.")
				return
			case errors.Is(err, client.ErrOffline):
				select {
				case <-time.After(backoff):
				case <-stopCtx.Done():
					return
				}
				backoff = min(2*backoff, 5*time.Second)
				continue
			default:
				a.approvalOver(gen, Describe(err))
				return
			}
		}
	}()
}

// approved finishes a sign-in a device approved.
func (a *App) approved(gen int, l api.Login, remember bool) {
	a.mu.Lock()
	if gen != a.gen {
		a.mu.Unlock()
		return
	}
	a.approvalWait = waiting{}
	a.mu.Unlock()
	a.update(func(s *Snapshot) { s.Approval, s.LinkCode = nil, nil })
	a.signedIn(l, remember)
}

// approvalOver returns to the sign-in screen with msg.
func (a *App) approvalOver(gen int, msg string) {
	a.mu.Lock()
	if gen != a.gen {
		a.mu.Unlock()
		return
	}
	a.gen++
	a.approvalWait = waiting{}
	a.mu.Unlock()
	a.finish(func(s *Snapshot) {
		s.Approval, s.LinkCode = nil, nil
		a.transition(s, EvSignInFailed)
		s.Err = msg
	})
}

// CancelApproval stops waiting for approval (or for the link code) and
// goes back to the sign-in screen.
func (a *App) CancelApproval() {
	a.mu.Lock()
	a.gen++
	a.approvalWait = waiting{}
	a.stopPollLocked()
	a.mu.Unlock()
	a.update(func(s *Snapshot) {
		s.Approval, s.LinkCode = nil, nil
		a.transition(s, EvApprovalCancelled)
	})
}

// SkipApproval signs in with a recovery code instead of a device's
// approval: for when no signed-in device is at hand.
func (a *App) SkipApproval(ctx context.Context, recoveryCode string) error {
	a.mu.Lock()
	w, state := a.approvalWait, a.snap.State
	a.mu.Unlock()
	if state != StateAwaitingApproval || w.token == "" || w.link {
		return a.fail(ErrNotSignedIn)
	}
	code := normalizeCode(recoveryCode)
	if code == "" {
		return a.fail(&FieldError{"code", "Enter one of your recovery codes."})
	}
	a.begin("Checking the code…")
	a.mu.Lock()
	a.gen++ // the answer being waited for no longer matters
	gen := a.gen
	a.stopPollLocked()
	a.mu.Unlock()
	l, err := a.api.LoginMFA(ctx, api.MFALoginRequest{MFAToken: w.token, Code: code, InstallKey: a.signInKey()})
	if errors.Is(err, client.ErrInvalidCredentials) {
		a.finish(func(s *Snapshot) {
			s.FieldErrors = map[string]string{"code": "That recovery code is not right, or it was used already."}
		})
		a.pollAnswer(gen) // still waiting for a device, too
		return err
	}
	if err != nil {
		a.mu.Lock()
		a.gen++ // stop waiting: this sign-in is over
		a.approvalWait = waiting{}
		a.mu.Unlock()
		a.update(func(s *Snapshot) { s.Approval = nil })
		return a.signInFailed(err)
	}
	a.mu.Lock()
	a.approvalWait = waiting{}
	a.mu.Unlock()
	a.update(func(s *Snapshot) { s.Approval = nil })
	a.signedIn(l, w.remember)
	return nil
}

// onApprovalEvent follows the approval requests of the account.
func (a *App) onApprovalEvent(ev client.Event) {
	switch ev.Name {
	case api.EventApprovalRequested:
		var r ApprovalRequest
		if ev.Decode(&r) != nil || r.ID == "" {
			return
		}
		a.update(func(s *Snapshot) {
			s.ApprovalRequests = append(slices.DeleteFunc(s.ApprovalRequests, func(x ApprovalRequest) bool { return x.ID == r.ID }), r)
		})
	case api.EventApprovalResolved:
		var r api.LoginApprovalResolvedEvent
		if ev.Decode(&r) != nil {
			return
		}
		a.dropApprovalRequest(r.ID)
	}
}

func (a *App) dropApprovalRequest(id string) {
	a.update(func(s *Snapshot) {
		s.ApprovalRequests = slices.DeleteFunc(s.ApprovalRequests, func(x ApprovalRequest) bool { return x.ID == id })
	})
}

// DecideApproval answers a sign-in waiting for approval: approve with the
// number the new device shows, or deny it ("No, it wasn't me"). A wrong
// number denies it too.
func (a *App) DecideApproval(ctx context.Context, id string, approve bool, number int) error {
	snap := a.Snapshot()
	if snap.State != StateSignedIn {
		return a.fail(ErrNotSignedIn)
	}
	gen := a.generation()
	label := "Approving…"
	if !approve {
		label = "Refusing…"
	}
	a.begin(label)
	err := a.api.DecideApproval(ctx, id, approve, number)
	switch {
	case err == nil, errors.Is(err, client.ErrNotFound), errors.Is(err, client.ErrExpired):
		// Answered (here or elsewhere) or run out: nothing waits any more.
		a.dropApprovalRequest(id)
		a.finish(nil)
		return nil
	default:
		return a.callFailed(gen, err)
	}
}

// CheckLink reads what a link code would let in (the device, where it
// is), before ApproveLink.
func (a *App) CheckLink(ctx context.Context, userCode string) (api.LinkPreview, error) {
	snap := a.Snapshot()
	if snap.State != StateSignedIn {
		return api.LinkPreview{}, a.fail(ErrNotSignedIn)
	}
	code := normalizeLinkCode(userCode)
	if len(code) != 9 {
		return api.LinkPreview{}, a.fail(&FieldError{"link_code", "Type the 8 letters the other device shows, like ABCD-EFGH."})
	}
	gen := a.generation()
	a.begin("Looking up the code…")
	p, err := a.api.CheckLink(ctx, code)
	switch {
	case errors.Is(err, client.ErrNotFound), errors.Is(err, client.ErrExpired), errors.Is(err, client.ErrInvalidRequest):
		return api.LinkPreview{}, a.fail(&FieldError{"link_code", "No device waits with that code: check it, or make a new one on the other device."})
	case err != nil:
		return api.LinkPreview{}, a.callFailed(gen, err)
	}
	a.finish(nil)
	return p, nil
}

// ApproveLink lets the device showing userCode sign in to the account.
// The server wants a recent password proof: then it returns
// ErrReauthRequired with Pending set (KindApproveLink), and Reauthenticate
// carries on.
func (a *App) ApproveLink(ctx context.Context, userCode string) error {
	snap := a.Snapshot()
	if snap.State != StateSignedIn {
		return a.fail(ErrNotSignedIn)
	}
	code := normalizeLinkCode(userCode)
	gen := a.generation()
	a.begin("Letting the device in…")
	err := a.api.ApproveLink(ctx, code)
	switch {
	case errors.Is(err, client.ErrReauthRequired):
		a.waitForPassword(Pending{Kind: KindApproveLink, Action: "let the device with code " + code + " in"},
			func(ctx context.Context) error { return a.ApproveLink(ctx, code) })
		return ErrReauthRequired
	case errors.Is(err, client.ErrNotFound), errors.Is(err, client.ErrExpired):
		return a.fail(&FieldError{"link_code", "That code is no longer waiting: make a new one on the other device."})
	case err != nil:
		return a.callFailed(gen, err)
	}
	a.finish(func(s *Snapshot) { s.Pending = nil })
	a.requestRefresh()
	return nil
}

// SetApproveNewDevices turns on or off the approval of new devices. The
// server wants a recent password proof (KindSetApproveNewDevices).
func (a *App) SetApproveNewDevices(ctx context.Context, on bool) error {
	action := "turn off approving new devices"
	if on {
		action = "turn on approving new devices"
	}
	return a.changeSettings(ctx, func(st *api.Settings) { st.ApproveNewDevices = on },
		Pending{Kind: KindSetApproveNewDevices, Action: action},
		func(ctx context.Context) error { return a.SetApproveNewDevices(ctx, on) })
}

// normalizeCode takes spaces and dashes out of a typed code.
func normalizeCode(c string) string {
	out := make([]rune, 0, len(c))
	for _, r := range c {
		if r != ' ' && r != '-' && r != '\t' {
			out = append(out, r)
		}
	}
	return string(out)
}

// normalizeLinkCode makes a typed link code "ABCD-EFGH": upper case,
// spaces dropped, the dash put back.
func normalizeLinkCode(c string) string {
	s := []rune(normalizeCode(c))
	for i, r := range s {
		if r >= 'a' && r <= 'z' {
			s[i] = r - 'a' + 'A'
		}
	}
	if len(s) == 8 {
		return string(s[:4]) + "-" + string(s[4:])
	}
	return string(s)
}

// endUnwanted logs out a session an approval made after this device had
// stopped waiting for it, with a client of its own: the app's client
// keeps its tokens.
func (a *App) endUnwanted(l api.Login) {
	c, err := client.New(a.api.BaseURL())
	if err != nil {
		return
	}
	defer c.CloseIdleConnections()
	c.SetProofKey(a.api.ProofKey()) // the session is bound to it
	c.SetTokens(l.Tokens())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, _ = c.Logout(ctx, false)
}

// stopPollLocked ends the wait for an answer at the server, if one runs
// (pollAnswer); a.mu is held.
func (a *App) stopPollLocked() {
	if a.stopPoll != nil {
		a.stopPoll()
		a.stopPoll = nil
	}
}
