package main

import (
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"

	"sessionguard/api"
)

// ledger is what the tool saw acknowledged: every sign-in, token pair and
// revoke the server answered with 2xx, ordered by a sequence counter, and
// every violation found so far. It is safe for concurrent use.
type ledger struct {
	seq atomic.Int64 // a request's send and its answer each take the next number

	mu         sync.Mutex
	sessions   map[string]*session // by session ID
	byDevice   map[string]*session // by device name (unique per session)
	counts     map[string]int      // acknowledged actions by kind
	checks     int                 // checks that passed
	violations []string
	warnings   []string
	devices    int
	// saved are the saved logins log-outs returned, oldest first.
	saved []*savedLogin
	// othersAcks are the acknowledged log-outs of all others.
	othersAcks []othersAck
}

// savedLogin is a saved login (remembered-login credential) an
// acknowledged log out returned.
type savedLogin struct {
	// SessionID is the session whose log out saved it.
	Account, DeviceID, SessionID, Credential string
	// Acked is the sequence number of the log out's answer.
	Acked int64
	// Superseded: a later acknowledged log out of the device saved a new
	// login, which replaced this one.
	Superseded bool
}

// othersAck is an acknowledged log out of all others: sent at Sent by a
// session of device DeviceID.
type othersAck struct {
	Account, DeviceID string
	Sent              int64
}

func newLedger() *ledger {
	return &ledger{sessions: map[string]*session{}, byDevice: map[string]*session{}, counts: map[string]int{}}
}

// session is one acknowledged sign-in and what happened to it.
type session struct {
	// Device is the device's name, unique per session; DeviceID is shared
	// by the sessions of a device that signed in again after saving its
	// login.
	ID, Account, Device, DeviceID string
	// Saved are the saved logins of the device acknowledged before its
	// sign-in was sent: a remote log out of the session must remove them.
	Saved []*savedLogin
	// SignedIn is the sequence number of the sign-in's answer.
	SignedIn int64
	// Pairs are the acknowledged token pairs, oldest first.
	Pairs []api.Tokens
	// UnackedRefresh: a refresh was sent and never answered (it was in
	// flight at a kill), so it may have replaced the access token.
	UnackedRefresh bool
	// RevokedSeq is the sequence number of the first evidence that the
	// session is revoked (an acknowledged revoke or a session_revoked
	// answer); 0 while there is none. Evidence says what it was.
	RevokedSeq int64
	Evidence   string
	// Revocation is the reason and revoking device the server reported
	// (session_revoked details), once seen.
	Revocation *revocation
	// AckedLogout: the session's own log out was acknowledged.
	AckedLogout bool
	// AckedRemoteBy are the devices whose remote log out of this session
	// was acknowledged.
	AckedRemoteBy []string
	// AckedOthers counts this session's acknowledged "log out of all
	// other devices".
	AckedOthers int

	busy bool // a worker is using its tokens
}

// revocation is why and by which device a session was ended.
type revocation struct{ Reason, ByDevice string }

func (s *session) latest() api.Tokens { return s.Pairs[len(s.Pairs)-1] }

// next takes the next sequence number.
func (l *ledger) next() int64 { return l.seq.Add(1) }

// newDevice names a new device of account; names are unique, so a
// revoking device name identifies the revoking session.
func (l *ledger) newDevice(account string) api.Device {
	l.mu.Lock()
	l.devices++
	n := l.devices
	l.mu.Unlock()
	return api.Device{ID: fmt.Sprintf("sgcrash-%06d", n), Name: fmt.Sprintf("%s device %d", account, n),
		Platform: api.PlatformLinux, OS: "Debian 12", Model: "sgcrash", AppVersion: "1.0.0"}
}

func (l *ledger) violate(format string, args ...any) {
	l.mu.Lock()
	l.violations = append(l.violations, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

func (l *ledger) warn(format string, args ...any) {
	l.mu.Lock()
	l.warnings = append(l.warnings, fmt.Sprintf(format, args...))
	l.mu.Unlock()
}

// pass counts n checks that held.
func (l *ledger) pass(n int) {
	l.mu.Lock()
	l.checks += n
	l.mu.Unlock()
}

func (l *ledger) count(kind string) {
	l.mu.Lock()
	l.counts[kind]++
	l.mu.Unlock()
}

// signedIn records an acknowledged sign-in; saved are the device's saved
// logins acknowledged before it was sent.
func (l *ledger) signedIn(account string, dev api.Device, saved []*savedLogin, lg api.Login, ack int64) *session {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := &session{ID: lg.Session.ID, Account: account, Device: dev.Name, DeviceID: dev.ID, Saved: saved,
		SignedIn: ack, Pairs: []api.Tokens{lg.Tokens()}}
	l.sessions[s.ID] = s
	l.byDevice[s.Device] = s
	l.counts[kindSignIn]++
	return s
}

// accepted records a 2xx answer to a request sent at sent with one of s's
// tokens: a violation if s was known revoked before the request was sent.
func (l *ledger) accepted(s *session, sent int64, what string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acceptedLocked(s, sent, what)
}

func (l *ledger) acceptedLocked(s *session, sent int64, what string) {
	if s.RevokedSeq != 0 && sent > s.RevokedSeq {
		l.violations = append(l.violations, fmt.Sprintf("%s of revoked session %s (%s) was accepted (%s)",
			what, s.ID, s.Device, s.Evidence))
		return
	}
	l.checks++
}

// revoked records evidence, answered at seq, that s is revoked; rev is
// what the server reported, when it did.
func (l *ledger) revoked(s *session, seq int64, evidence string, rev *revocation) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.revokedLocked(s, seq, evidence, rev)
}

func (l *ledger) revokedLocked(s *session, seq int64, evidence string, rev *revocation) {
	if s.RevokedSeq == 0 || seq < s.RevokedSeq {
		s.RevokedSeq, s.Evidence = seq, evidence
	}
	if rev != nil {
		if s.Revocation != nil && *s.Revocation != *rev {
			l.violations = append(l.violations, fmt.Sprintf("session %s (%s) was reported revoked for %s by %q, later for %s by %q",
				s.ID, s.Device, s.Revocation.Reason, s.Revocation.ByDevice, rev.Reason, rev.ByDevice))
		}
		s.Revocation = rev
	}
}

// refreshed records an acknowledged refresh of s sent at sent.
func (l *ledger) refreshed(s *session, sent int64, t api.Tokens) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acceptedLocked(s, sent, "a refresh token")
	s.Pairs = append(s.Pairs, t)
	s.UnackedRefresh = false
	l.counts[kindRefresh]++
}

// loggedOut records s's acknowledged log out, which saved the device's
// login when credential is not empty.
func (l *ledger) loggedOut(s *session, sent, ack int64, credential string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acceptedLocked(s, sent, "an access token (log out)")
	s.AckedLogout = true
	l.revokedLocked(s, ack, "its log out was acknowledged", nil)
	l.counts[kindLogout]++
	if credential == "" {
		return
	}
	for _, sv := range l.saved {
		if sv.Account == s.Account && sv.DeviceID == s.DeviceID {
			sv.Superseded = true
		}
	}
	l.saved = append(l.saved, &savedLogin{Account: s.Account, DeviceID: s.DeviceID, SessionID: s.ID, Credential: credential, Acked: ack})
	l.counts[kindSaved]++
}

// savedDevice picks a device of account with a saved login and no session
// known to be live, for a sign-in on it again; it returns the device's ID
// and its saved logins, or "" if there is none.
func (l *ledger) savedDevice(account string, pick func(n int) int) (string, []*savedLogin) {
	l.mu.Lock()
	defer l.mu.Unlock()
	busy := map[string]bool{}
	for _, s := range l.sessions {
		if s.Account == account && s.RevokedSeq == 0 {
			busy[s.DeviceID] = true
		}
	}
	var cands []string
	byDevice := map[string][]*savedLogin{}
	for _, sv := range l.saved {
		if sv.Account != account || busy[sv.DeviceID] {
			continue
		}
		if byDevice[sv.DeviceID] == nil {
			cands = append(cands, sv.DeviceID)
		}
		byDevice[sv.DeviceID] = append(byDevice[sv.DeviceID], sv)
	}
	if len(cands) == 0 {
		return "", nil
	}
	id := cands[pick(len(cands))]
	return id, byDevice[id]
}

// mustBeForgotten says why sv cannot work any more, if an action the tool
// saw take effect removed it: a remote log out of a session of its device
// that signed in after it was saved (the session's revocation, seen after
// a restart, shows it took effect, acknowledged or not), or an
// acknowledged log out of all others sent from another device after it was
// saved. "" if none did.
func (l *ledger) mustBeForgotten(sv *savedLogin) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, s := range l.sessions {
		if s.DeviceID == sv.DeviceID && s.Revocation != nil && s.Revocation.Reason == api.ReasonRemoteLogout && slices.Contains(s.Saved, sv) {
			return fmt.Sprintf("session %s (%s) of its device was logged out remotely by %q", s.ID, s.Device, s.Revocation.ByDevice)
		}
	}
	for _, o := range l.othersAcks {
		if o.Account == sv.Account && o.DeviceID != sv.DeviceID && o.Sent > sv.Acked {
			return fmt.Sprintf("a log out of all others from device %s was acknowledged", o.DeviceID)
		}
	}
	return ""
}

// remoteRevoked records caller's acknowledged remote log out of target.
func (l *ledger) remoteRevoked(caller, target *session, sent, ack int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acceptedLocked(caller, sent, "an access token (remote log out)")
	target.AckedRemoteBy = append(target.AckedRemoteBy, caller.Device)
	l.revokedLocked(target, ack, "its remote log out by "+caller.Device+" was acknowledged", nil)
	l.counts[kindRevoke]++
}

// othersRevoked records caller's acknowledged "log out of all other
// devices", sent at sent: every other session of the account whose sign-in
// was acknowledged before that is revoked.
func (l *ledger) othersRevoked(caller *session, sent, ack int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.acceptedLocked(caller, sent, "an access token (log out of all others)")
	caller.AckedOthers++
	l.othersAcks = append(l.othersAcks, othersAck{Account: caller.Account, DeviceID: caller.DeviceID, Sent: sent})
	for _, s := range l.sessions {
		if s.Account == caller.Account && s != caller && s.SignedIn < sent {
			l.revokedLocked(s, ack, "log out of all others by "+caller.Device+" was acknowledged", nil)
		}
	}
	l.counts[kindOthers]++
}

// claim picks up to one session of account for a worker (live as far as
// the tool knows, not in use), marking it busy; nil if there is none.
// skip excludes one session.
func (l *ledger) claim(account string, pick func(n int) int, skip *session) *session {
	l.mu.Lock()
	defer l.mu.Unlock()
	var free []*session
	for _, s := range l.sessions {
		if s.Account == account && !s.busy && s.RevokedSeq == 0 && s != skip {
			free = append(free, s)
		}
	}
	if len(free) == 0 {
		return nil
	}
	sort.Slice(free, func(i, j int) bool { return free[i].SignedIn < free[j].SignedIn })
	s := free[pick(len(free))]
	s.busy = true
	return s
}

func (l *ledger) release(s *session) {
	l.mu.Lock()
	s.busy = false
	l.mu.Unlock()
}

// live counts the account's sessions not known to be revoked.
func (l *ledger) live(account string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, s := range l.sessions {
		if s.Account == account && s.RevokedSeq == 0 {
			n++
		}
	}
	return n
}

// target picks a session of account other than not, for a remote log out
// (busy ones too: a revoke may race a refresh); nil if there is none.
func (l *ledger) target(account string, not *session, pick func(n int) int) *session {
	l.mu.Lock()
	defer l.mu.Unlock()
	var cands []*session
	for _, s := range l.sessions {
		if s.Account == account && s != not && s.RevokedSeq == 0 {
			cands = append(cands, s)
		}
	}
	if len(cands) == 0 {
		return nil
	}
	sort.Slice(cands, func(i, j int) bool { return cands[i].SignedIn < cands[j].SignedIn })
	return cands[pick(len(cands))]
}

// savedLogins lists the saved logins, oldest first.
func (l *ledger) savedLogins() []*savedLogin {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.saved)
}

// snapshot lists the sessions, ordered by sign-in.
func (l *ledger) snapshot() []*session {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]*session, 0, len(l.sessions))
	for _, s := range l.sessions {
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].SignedIn < out[j].SignedIn })
	return out
}

// Kinds of acknowledged actions.
const (
	kindSignIn  = "sign-ins"
	kindRefresh = "refreshes"
	kindRevoke  = "remote log-outs"
	kindLogout  = "log-outs"
	kindOthers  = "log-outs of all others"
	kindRead    = "reads"
	// Counted besides: log-outs that saved the login, sign-ins of a
	// device again after it saved its login.
	kindSaved  = "of them saving the login"
	kindResign = "of them again on a saved device"
)

// kinds are the kinds that make up the total of acknowledged actions.
var kinds = []string{kindSignIn, kindRefresh, kindRevoke, kindLogout, kindOthers, kindRead}

// total counts acknowledged actions.
func (l *ledger) total() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, k := range kinds {
		n += l.counts[k]
	}
	return n
}
