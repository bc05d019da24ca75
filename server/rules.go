package server

// Device rules: a session ends when it goes unused longer than its own rule
// (PATCH /v1/sessions/{id} idle_timeout_s) or its account's (PUT
// /v1/settings auto_logout_inactive_after_s), the stricter of the two
// (store.Session.IdleRule).
//
//   - Use is any request made with the session's access token other than
//     opening its event stream (authed; a stream open alone is not use);
//     a token refresh counts too. Each use moves the session's last use: the
//     first after a minute or more at once (TouchSession, which writes
//     last_seen_at), the others in this replica's memory (usage), written
//     in one batch by the background loop every minute (RecordUse) and
//     when it stops. last_seen_at thus holds the session's last request to
//     the microsecond once that is written, never more than about a minute
//     later, while a request inside that minute finds it at most a minute
//     old, far from any rule (MinIdleTimeoutFloor). So the idle time the
//     server compares with the rule is the time since the last request,
//     exactly; only a replica that crashes loses the uses it held in
//     memory (at most a minute's), which may end a session up to a minute
//     early.
//   - The session's idle deadline (store.Session.IdleDeadline: last use
//     plus its rule, unless it expires first) is computed by the database
//     from the session's row, where the account's rule is copied (store
//     SetSettings, CreateSession), and indexed.
//   - A request of a session past its deadline ends it there and then
//     (endIdleOwn): 401 session_revoked with reason inactive and the
//     closure token, as any revocation answers the session's own token.
//   - The background loop (StartBackground) ends every session past its
//     deadline every IdleSweepEvery (sweepIdle; SweepInactive is the same
//     for callers, after writing the uses held in memory), so a device that
//     never calls again is ended within that much of its deadline: in
//     batches of idleBatch, each one short transaction that skips sessions
//     another transaction holds (replicas sweeping at once split the work
//     and never end a session twice), audited (session.revoked, the rule in
//     the detail) and pushed (session.revoked with reason inactive and its
//     closure token to the session's streams, sessions.changed to the
//     account's).
//   - Setting a rule a session already exceeds (PATCH, PUT) ends it at
//     once, in the same request.
//   - Ended for inactivity, a session's device also loses its saved logins
//     (like a remote log out: that device must enter the password again).
//     Nobody ended it: revoked_by_* are empty.

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"sessionguard/api"
	"sessionguard/server/store"
)

// Limits of inactivity rules.
const (
	// MinIdleTimeoutFloor is the least Config.MinIdleTimeout: a shorter
	// rule would be within reach of the minute by which a replica may
	// write a session's last use late (see rules.go).
	MinIdleTimeoutFloor = 5 * time.Minute
	// MaxIdleTimeout is the longest rule accepted, a year (365 days); a
	// session's own rule is also at most its lifetime.
	MaxIdleTimeout = 365 * 24 * time.Hour
)

// idleBatch is how many sessions one sweep transaction ends at most.
const idleBatch = 100

// usage holds the uses of sessions this replica noted without writing
// them (within TouchInterval of their last write), newest per session,
// until the background loop writes them (flushUse).
type usage struct {
	mu   sync.Mutex
	uses map[string]store.Use
}

func newUsage() *usage { return &usage{uses: map[string]store.Use{}} }

// note records a use of session id at at, with the expiry it moves the
// session to.
func (u *usage) note(id string, at, expires time.Time) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if old, ok := u.uses[id]; !ok || at.After(old.At) {
		u.uses[id] = store.Use{SessionID: id, At: at, ExpiresAt: expires}
	}
}

// last is the latest use of session id noted and not yet written.
func (u *usage) last(id string) (time.Time, bool) {
	u.mu.Lock()
	defer u.mu.Unlock()
	x, ok := u.uses[id]
	return x.At, ok
}

// take returns the uses noted and forgets them.
func (u *usage) take() []store.Use {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.uses) == 0 {
		return nil
	}
	out := make([]store.Use, 0, len(u.uses))
	for _, x := range u.uses {
		out = append(out, x)
	}
	clear(u.uses)
	return out
}

// restore puts back uses that could not be written, unless a later one
// was noted meanwhile.
func (u *usage) restore(uses []store.Use) {
	for _, x := range uses {
		u.note(x.SessionID, x.At, x.ExpiresAt)
	}
}

// flushUse writes the uses this replica noted (store.RecordUse); on
// failure they are kept for the next try.
func (s *Server) flushUse(ctx context.Context) error {
	uses := s.usage.take()
	if len(uses) == 0 {
		return nil
	}
	if err := s.store.RecordUse(ctx, uses); err != nil {
		s.usage.restore(uses)
		return err
	}
	return nil
}

// idleDue reports whether sess is past its idle deadline at now.
func idleDue(sess store.Session, now time.Time) bool {
	d, ok := sess.IdleDeadline()
	return ok && !now.Before(d)
}

// idleDueHere is idleDue for a request on this replica: a use this
// replica noted and has not written yet counts too.
func (s *Server) idleDueHere(sess store.Session, now time.Time) bool {
	if !idleDue(sess, now) {
		return false
	}
	if at, ok := s.usage.last(sess.ID); ok && at.After(sess.LastSeenAt) {
		sess.LastSeenAt = at
		return idleDue(sess, now)
	}
	return true
}

// inactive is the revocation of sessions ended for inactivity at at: by
// no one.
func inactive(at time.Time) store.Revocation {
	return store.Revocation{At: at, Reason: api.ReasonInactive}
}

// idleAudit makes the session.revoked event of a session ended for
// inactivity: about the session itself (no one ended it), from ip when a
// request of the session found it due (none for the sweeper), the rule in
// the detail.
func (s *Server) idleAudit(ip netip.Addr) func(store.Session, int) api.AuditEvent {
	var where api.Location
	if ip.IsValid() {
		where = s.locate(ip)
	}
	return func(e store.Session, forgotten int) api.AuditEvent {
		ev := api.AuditEvent{Type: api.AuditSessionRevoked, IP: ipString(ip), Location: where,
			SessionID: e.ID, DeviceName: e.Device.Name, TargetSessionID: e.ID, TargetDeviceName: e.Device.Name,
			Detail: idleDetail(e, forgotten)}
		if e.Revoked != nil {
			ev.At = e.Revoked.At
		}
		return s.stamp(ev)
	}
}

// idleDetail is the detail of a session ended for inactivity: "Unused for
// 1 month: logged out by the account's rule (inactive)".
func idleDetail(e store.Session, forgotten int) string {
	rule, own := e.IdleRule()
	whose := "the account's rule"
	if own {
		whose = "this device's own rule"
	}
	d := fmt.Sprintf("Unused for %s: logged out by %s (%s)", ruleText(rule), whose, api.ReasonInactive)
	if forgotten > 0 {
		d += "; saved login info removed"
	}
	return d
}

// ruleText says a rule in the largest unit that divides it: "1 year", "3
// months" (a month is 30 days), "2 weeks", "5 days", "12 hours", "90
// minutes", "45 seconds".
func ruleText(d time.Duration) string {
	const day = 24 * time.Hour
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{365 * day, "year"}, {30 * day, "month"}, {7 * day, "week"}, {day, "day"}, {time.Hour, "hour"}, {time.Minute, "minute"}} {
		if d >= u.d && d%u.d == 0 {
			return plural(int(d/u.d), u.name)
		}
	}
	return plural(int(d/time.Second), "second")
}

// endIdleOwn ends sess, found past its idle deadline at now by one of its
// own requests from ip, and returns the answer that request gets: 401
// session_revoked (reason inactive), with the revocation's closure token
// when own (the request carried the session's current token). A session
// used meanwhile (by another request) is not ended: then it returns the
// session as it now is and no error. A sweep of another replica holding
// the session is waited for a little; should it still hold it, the answer
// is the same 401 without a closure token (the next request gets one).
func (s *Server) endIdleOwn(ctx context.Context, sess store.Session, ip netip.Addr, now time.Time, own bool) (store.Session, error) {
	for attempt := 0; ; attempt++ {
		mint := newClosureMint()
		ended, err := s.store.EndIdleSessions(ctx, store.IdleSweep{Revocation: inactive(now), AccountID: sess.AccountID,
			SessionID: sess.ID, Limit: 1, Forget: true, Closure: mint.fn(), Audit: s.idleAudit(ip)})
		if err != nil {
			return sess, storeErr(err)
		}
		if len(ended) == 1 {
			s.log.Info("session ended for inactivity at its next request", "session", sess.ID)
			s.sessionsEnded(sess.AccountID, ended, mint)
			if !own {
				return ended[0], errSessionRevoked(ended[0])
			}
			return ended[0], s.errRevokedOwn(ctx, ended[0], mint.eventToken(ended[0]))
		}
		cur, err := s.store.Session(ctx, sess.ID)
		if err != nil {
			return sess, storeErr(err)
		}
		switch {
		case cur.Revoked != nil && own:
			return cur, s.errRevokedOwn(ctx, cur, "")
		case cur.Revoked != nil:
			return cur, errSessionRevoked(cur)
		case !idleDue(cur, now):
			return cur, nil // used meanwhile
		case attempt == 2:
			cur.Revoked = &store.Revocation{At: now, Reason: api.ReasonInactive}
			return cur, errSessionRevoked(cur)
		}
		t := time.NewTimer(20 * time.Millisecond)
		select {
		case <-ctx.Done():
			t.Stop()
			return sess, storeErr(ctx.Err())
		case <-t.C:
		}
	}
}

// SweepInactive writes the uses this replica holds in memory, then ends
// every session past its idle deadline now (see rules.go) and returns how
// many it ended. StartBackground calls it every IdleSweepEvery (writing
// the uses once a minute); it is safe to call from several replicas at
// once.
func (s *Server) SweepInactive(ctx context.Context) (int, error) {
	if err := s.flushUse(ctx); err != nil {
		return 0, err
	}
	return s.sweepIdle(ctx, "")
}

// sweepIdle ends the sessions (of accountID, or all) past their idle
// deadline, idleBatch per transaction, auditing and pushing each batch as
// it commits.
//
// Its log line ("inactivity sweep", when it ended any) gives the time it
// took in all (took) and in the store's transactions alone (db); the
// pushes come after each commit, outside them.
func (s *Server) sweepIdle(ctx context.Context, accountID string) (int, error) {
	var (
		start = time.Now()
		total int
		db    time.Duration
		txs   int
	)
	defer func() {
		if accountID == "" {
			s.metrics.idleSweep.Observe(time.Since(start).Seconds())
		}
		if total > 0 {
			s.log.Info("inactivity sweep", "ended", total, "account", accountID, "took", time.Since(start), "db", db,
				"transactions", txs)
		}
	}()
	audit := s.idleAudit(netip.Addr{})
	for {
		mint := newClosureMint()
		t0 := time.Now()
		ended, err := s.store.EndIdleSessions(ctx, store.IdleSweep{Revocation: inactive(s.now()), AccountID: accountID,
			Limit: idleBatch, Forget: true, Closure: mint.fn(), Audit: audit})
		db += time.Since(t0)
		txs++
		if err != nil {
			return total, err
		}
		total += len(ended)
		s.endedByAccount(ended, mint)
		if len(ended) < idleBatch {
			return total, nil
		}
	}
}

// endedByAccount is sessionsEnded for sessions of several accounts.
func (s *Server) endedByAccount(ended []store.Session, mint *closureMint) {
	byAccount := map[string][]store.Session{}
	var order []string
	for _, e := range ended {
		if _, ok := byAccount[e.AccountID]; !ok {
			order = append(order, e.AccountID)
		}
		byAccount[e.AccountID] = append(byAccount[e.AccountID], e)
	}
	for _, a := range order {
		s.sessionsEnded(a, byAccount[a], mint)
	}
}

// checkIdleTimeout validates a session's own rule v (idle_timeout_s, in
// seconds): 0 (no rule), or from the server's minimum to MaxIdleTimeout.
// lifetime, when positive, is the session's lifetime, which the rule may
// not exceed either.
func checkIdleTimeout(v int, minRule, lifetime time.Duration) (time.Duration, error) {
	const field = "idle_timeout_s"
	most := MaxIdleTimeout
	if lifetime > 0 && lifetime < most {
		most = lifetime.Truncate(time.Second)
	}
	switch {
	case v == 0:
		return 0, nil
	case v < 0:
		return 0, errInvalid(field, "idle_timeout_s must be 0 (no rule) or a number of seconds.")
	case int64(v) < int64(minRule/time.Second):
		return 0, errInvalid(field, fmt.Sprintf("idle_timeout_s must be at least %d (%s), or 0 to remove the rule.",
			int64(minRule/time.Second), ruleText(minRule)))
	case int64(v) > int64(most/time.Second):
		if most < MaxIdleTimeout {
			return 0, errInvalid(field, fmt.Sprintf("idle_timeout_s must be at most %d (%s), this session's lifetime.",
				int64(most/time.Second), ruleText(most)))
		}
		return 0, errInvalid(field, fmt.Sprintf("idle_timeout_s must be at most %d (%s).",
			int64(most/time.Second), ruleText(most)))
	}
	return time.Duration(v) * time.Second, nil
}

// checkSettings validates PUT /v1/settings: auto_logout_inactive_after_s
// is 0 (never) or from the server's minimum to MaxIdleTimeout.
func checkSettings(req api.Settings, minRule time.Duration) (store.Settings, error) {
	v := req.AutoLogoutInactiveAfterS
	lo, hi := int64(minRule/time.Second), int64(MaxIdleTimeout/time.Second)
	if v != 0 && (int64(v) < lo || int64(v) > hi) {
		return store.Settings{}, errInvalid("auto_logout_inactive_after_s", fmt.Sprintf(
			"auto_logout_inactive_after_s must be 0 (never) or from %d (%s) to %d (%s).", lo, ruleText(minRule), hi, ruleText(MaxIdleTimeout)))
	}
	return store.Settings{AutoLogoutInactiveAfter: time.Duration(v) * time.Second, ApproveNewDevices: req.ApproveNewDevices}, nil
}

func settingsView(st store.Settings) api.Settings {
	return api.Settings{AutoLogoutInactiveAfterS: int(st.AutoLogoutInactiveAfter / time.Second), ApproveNewDevices: st.ApproveNewDevices}
}

// handleGetSettings is GET /v1/settings.
func (s *Server) handleGetSettings(w http.ResponseWriter, r *http.Request) error {
	acct, err := s.account(r.Context(), callerFrom(r.Context()).session.AccountID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, settingsView(acct.Settings))
	return nil
}

// handlePutSettings is PUT /v1/settings (step-up): it replaces the
// account's settings, audited (account.settings_changed) in the same
// store write, ends at once the sessions the new rule finds unused for
// longer (like the sweeper, which would within IdleSweepEvery), and tells
// the account's streams sessions.changed. The same settings again change
// nothing and write nothing. ApproveNewDevices is kept as sent; nothing
// acts on it yet.
func (s *Server) handlePutSettings(w http.ResponseWriter, r *http.Request, req api.Settings) error {
	st, err := checkSettings(req, s.cfg.MinIdleTimeout)
	if err != nil {
		return err
	}
	c, acct, _, err := s.steppedUp(r)
	if err != nil {
		return err
	}
	ctx := r.Context()
	if acct.Settings == st {
		writeJSON(w, http.StatusOK, settingsView(st))
		return nil
	}
	ev := s.eventBy(c, api.AuditSettingsChanged, "")
	before, err := s.store.SetSettings(ctx, acct.ID, st, func(before store.Settings) api.AuditEvent {
		e := ev
		e.Detail = settingsDetail(before, st)
		return s.stamp(e)
	})
	if err != nil {
		return storeErr(err)
	}
	ended := 0
	if r := st.AutoLogoutInactiveAfter; r > 0 && (before.AutoLogoutInactiveAfter <= 0 || r < before.AutoLogoutInactiveAfter) {
		// Stricter: end now what it finds unused for longer. Should this
		// fail, the sweeper ends them within IdleSweepEvery.
		if ended, err = s.sweepIdle(ctx, acct.ID); err != nil {
			s.log.Warn("ending the sessions a new rule applies to failed; the sweeper will", "account", acct.ID, "err", err)
		}
	}
	if ended == 0 {
		s.publish(Event{AccountID: acct.ID, Name: api.EventSessionsChanged, Data: api.SessionsChangedEvent{}})
	}
	writeJSON(w, http.StatusOK, settingsView(st))
	return nil
}

// settingsDetail says what a settings change changed: "Log out devices
// unused for 1 month (was never)".
func settingsDetail(before, after store.Settings) string {
	var parts []string
	if a, b := after.AutoLogoutInactiveAfter, before.AutoLogoutInactiveAfter; a != b {
		was := "never"
		if b > 0 {
			was = ruleText(b)
		}
		if a > 0 {
			parts = append(parts, fmt.Sprintf("Log out devices unused for %s (was %s)", ruleText(a), was))
		} else {
			parts = append(parts, fmt.Sprintf("Never log out inactive devices (was %s)", was))
		}
	}
	if after.ApproveNewDevices != before.ApproveNewDevices {
		if after.ApproveNewDevices {
			parts = append(parts, "Approval of new devices turned on")
		} else {
			parts = append(parts, "Approval of new devices turned off")
		}
	}
	if len(parts) == 0 {
		return "Settings saved unchanged"
	}
	return strings.Join(parts, "; ")
}

// rulesDetail says what a change of a device's own rule did: "Log out if
// unused for 1 week", "Rule removed (was 1 day)".
func rulesDetail(before, after time.Duration) string {
	d := "Rule removed"
	if after > 0 {
		d = "Log out if unused for " + ruleText(after)
	}
	if before > 0 {
		d += " (was " + ruleText(before) + ")"
	}
	return d
}
