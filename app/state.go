// Package app is Sessionguard's brain without widgets: the state machine,
// saved accounts and every action a person takes; the UI draws its Snapshot.
package app

import "fmt"

// State is where the app is in a person's session life.
type State int

// The states. The UI picks its screen from these.
const (
	// StateStarting: reading saved accounts and signing in silently.
	StateStarting State = iota
	// StateSignedOut: the sign-in screen.
	StateSignedOut
	// StateSigningIn: a sign-in (password, saved login or sign-up) is under way.
	StateSigningIn
	// StateNeedsSecondFactor: the password was right; a code is needed.
	StateNeedsSecondFactor
	// StateSignedIn: home, settings, device list.
	StateSignedIn
	// StateResetting: "clear app data" is under way.
	StateResetting
	// StateAwaitingApproval: the password was right (or a link code is
	// shown), and a signed-in device must approve this one
	// (Snapshot.Approval or Snapshot.LinkCode says what to show).
	StateAwaitingApproval
)

var stateNames = [...]string{"starting", "signed out", "signing in", "needs second factor", "signed in", "resetting",
	"awaiting approval"}

// String names the state for logs and tests.
func (s State) String() string {
	if s < 0 || int(s) >= len(stateNames) {
		return fmt.Sprintf("State(%d)", int(s))
	}
	return stateNames[s]
}

// Event is something that moves the state machine.
type Event int

// The events.
const (
	// EvNoSession: start-up found nothing to sign in with silently.
	EvNoSession Event = iota
	// EvSignInStarted: a sign-in or sign-up was submitted.
	EvSignInStarted
	// EvSignedIn: the server accepted a sign-in (or a silent one at start).
	EvSignedIn
	// EvSecondFactorRequired: the server wants a two-step code.
	EvSecondFactorRequired
	// EvSignInFailed: the sign-in attempt failed.
	EvSignInFailed
	// EvSecondFactorCancelled: the person gave up a sign-in waiting for
	// its code.
	EvSecondFactorCancelled
	// EvSignedOut: this device logged out, or its session was ended
	// elsewhere (revoked, expired).
	EvSignedOut
	// EvResetStarted: "clear app data" began.
	EvResetStarted
	// EvResetDone: the app is back to first run.
	EvResetDone
	// EvApprovalRequired: the server wants a signed-in device to approve
	// this sign-in (or a link code was made).
	EvApprovalRequired
	// EvApprovalCancelled: the person gave up waiting for approval.
	EvApprovalCancelled
)

var eventNames = [...]string{"no session", "sign-in started", "signed in", "second factor required",
	"sign-in failed", "second factor cancelled", "signed out", "reset started", "reset done",
	"approval required", "approval cancelled"}

// String names the event for logs and tests.
func (e Event) String() string {
	if e < 0 || int(e) >= len(eventNames) {
		return fmt.Sprintf("Event(%d)", int(e))
	}
	return eventNames[e]
}

// Next is the state machine: the state after e happens in s. Events that
// make no sense in s leave it unchanged. It is pure; the App applies it.
func Next(s State, e Event) State {
	switch e {
	case EvResetStarted:
		return StateResetting
	case EvResetDone:
		return StateSignedOut
	case EvSignedOut:
		if s == StateResetting {
			return s
		}
		return StateSignedOut
	}
	switch s {
	case StateStarting:
		switch e {
		case EvNoSession, EvSignInFailed:
			return StateSignedOut
		case EvSignedIn:
			return StateSignedIn
		case EvSignInStarted:
			return StateSigningIn
		}
	case StateSignedOut:
		if e == EvSignInStarted {
			return StateSigningIn
		}
	case StateSigningIn:
		switch e {
		case EvSignedIn:
			return StateSignedIn
		case EvSecondFactorRequired:
			return StateNeedsSecondFactor
		case EvApprovalRequired:
			return StateAwaitingApproval
		case EvSignInFailed:
			return StateSignedOut
		}
	case StateAwaitingApproval:
		switch e {
		case EvSignedIn:
			return StateSignedIn
		case EvSignInStarted: // a recovery code instead
			return StateSigningIn
		case EvSignInFailed, EvApprovalCancelled:
			return StateSignedOut
		}
	case StateNeedsSecondFactor:
		switch e {
		case EvSignInStarted:
			return StateSigningIn
		case EvSignInFailed, EvSecondFactorCancelled:
			return StateSignedOut
		}
	}
	return s
}
