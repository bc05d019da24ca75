package app

import "testing"

func TestNext(t *testing.T) {
	tests := []struct {
		from State
		ev   Event
		want State
	}{
		{StateStarting, EvNoSession, StateSignedOut},
		{StateStarting, EvSignedIn, StateSignedIn},
		{StateStarting, EvSignInFailed, StateSignedOut},
		{StateStarting, EvSignInStarted, StateSigningIn},
		{StateSignedOut, EvSignInStarted, StateSigningIn},
		{StateSignedOut, EvSignedIn, StateSignedOut}, // no sign-in without starting one
		{StateSigningIn, EvSignedIn, StateSignedIn},
		{StateSigningIn, EvSecondFactorRequired, StateNeedsSecondFactor},
		{StateSigningIn, EvSignInFailed, StateSignedOut},
		{StateNeedsSecondFactor, EvSignInStarted, StateSigningIn},
		{StateNeedsSecondFactor, EvSignInFailed, StateSignedOut},
		{StateNeedsSecondFactor, EvSignedIn, StateNeedsSecondFactor},
		{StateNeedsSecondFactor, EvSecondFactorCancelled, StateSignedOut},
		{StateSigningIn, EvSecondFactorCancelled, StateSigningIn}, // nothing to cancel while the code is checked
		{StateSignedIn, EvSignedOut, StateSignedOut},
		{StateSignedIn, EvSignInStarted, StateSignedIn},
		{StateSignedIn, EvSecondFactorRequired, StateSignedIn},
		{StateSignedIn, EvResetStarted, StateResetting},
		{StateSignedOut, EvResetStarted, StateResetting},
		{StateResetting, EvSignedOut, StateResetting}, // the reset's own log out
		{StateResetting, EvResetDone, StateSignedOut},
		{StateResetting, EvSignedIn, StateResetting},
		{StateSigningIn, EvApprovalRequired, StateAwaitingApproval},
		{StateSignedOut, EvApprovalRequired, StateSignedOut}, // asked for by a sign-in under way only
		{StateAwaitingApproval, EvSignedIn, StateSignedIn},
		{StateAwaitingApproval, EvSignInStarted, StateSigningIn},
		{StateAwaitingApproval, EvSignInFailed, StateSignedOut},
		{StateAwaitingApproval, EvApprovalCancelled, StateSignedOut},
		{StateAwaitingApproval, EvSecondFactorRequired, StateAwaitingApproval},
		{StateAwaitingApproval, EvSignedOut, StateSignedOut},
	}
	for _, tc := range tests {
		if got := Next(tc.from, tc.ev); got != tc.want {
			t.Errorf("Next(%v, %v) = %v, want %v", tc.from, tc.ev, got, tc.want)
		}
	}
}

func TestStateAndEventNames(t *testing.T) {
	seen := map[string]bool{}
	for s := StateStarting; s <= StateAwaitingApproval; s++ {
		n := s.String()
		if n == "" || seen[n] {
			t.Errorf("state %d has name %q", s, n)
		}
		seen[n] = true
	}
	if got := State(99).String(); got != "State(99)" {
		t.Errorf("unknown state = %q", got)
	}
	for e := EvNoSession; e <= EvApprovalCancelled; e++ {
		if e.String() == "" || e.String()[0] == 'E' {
			t.Errorf("event %d has name %q", e, e.String())
		}
	}
}
