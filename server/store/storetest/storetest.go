// Package storetest is the contract test suite for store.Store: every
// implementation runs Run and RunPersistence from its own tests.
package storetest

import (
	"slices"
	"testing"

	"sessionguard/server/store"
)

// Run runs the store.Store contract against the stores open returns.
//
// open is called once per subtest and must return a new, open handle. It
// should arrange for the handle to be closed with t.Cleanup; some subtests
// close it themselves first, so Close must be safe to call twice. Handles
// may share one database: every subtest uses IDs, usernames and hashes of
// its own and only ever looks at records it created, so open need not
// empty anything.
//
// Times: the suite writes times with microsecond precision, some of them in
// a zone other than UTC, and requires them back as the same instant
// (time.Time.Equal) with Location() == time.UTC. A store may keep only
// microseconds (SQLite and PostgreSQL both do); callers must not rely on
// anything finer.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	runCases(t, open, slices.Concat(contract, purgeContract))
}

// testCase is one subtest of the contract, on a fixture of its own.
type testCase struct {
	name string
	fn   func(f *fixture)
}

// runCases runs each case as a subtest, on a new handle from open.
func runCases(t *testing.T, open func(t *testing.T) store.Store, cases []testCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.fn(newFixture(t, open(t)))
		})
	}
}

// contract lists the subtests Run runs besides purgeContract.
var contract = []testCase{
	{"Ping", testPing},

	{"Account/RoundTrip", testAccountRoundTrip},
	{"Account/UsernameTaken", testAccountUsernameTaken},
	{"Account/NotFound", testAccountNotFound},
	{"Account/Count", testAccountCount},

	{"Session/RoundTrip", testSessionRoundTrip},
	{"Session/NotFound", testSessionNotFound},
	{"Session/CreateIsAtomic", testCreateSessionAtomic},
	{"Session/CreateWithAudit", testCreateSessionAudit},
	{"Session/Touch", testTouchSession},
	{"Session/SetAuthTime", testSetAuthTime},
	{"Session/InstallHashes", testInstallHashes},
	{"Session/KnownInstall", testKnownInstall},
	{"Session/CreateResetsReauthFailures", testCreateSessionResetsFailures},
	{"Session/FailReauth", testFailReauth},
	{"Session/Rename", testRenameSession},
	{"Session/RenameRefused", testRenameSessionRefused},
	{"Session/RenameRollBack", testRenameSessionRollBack},
	{"Session/Update", testUpdateSession},
	{"Session/Bound", testBoundSessionReads},

	{"DPoP/MarkRefused", testMarkDPoPRefused},
	{"DPoP/MarkRefusedCanceled", testMarkDPoPRefusedCanceled},
	{"Concurrent/MarkDPoPRefused", testConcurrentMarkDPoPRefused},

	{"Rules/IdleRule", testIdleRule},
	{"Rules/Settings", testSettings},
	{"Rules/EndIdleSessions", testEndIdleSessions},
	{"Rules/DeadlineMoves", testIdleDeadlineMoves},
	{"Concurrent/EndIdleSessions", testConcurrentEndIdleSessions},
	{"Concurrent/SettingsWhileSigningIn", testConcurrentSettingsAndSignIns},

	{"ListSessions/OrderAndFilter", testListSessionsOrderAndFilter},
	{"ListSessions/Paging", testListSessionsPaging},
	{"ListSessions/CursorSurvivesRevoke", testListSessionsCursorSurvivesRevoke},
	{"ListSessions/UnknownAccount", testListSessionsUnknownAccount},
	{"SearchSessions/Fields", testSearchSessions},
	{"SearchSessions/Paging", testSearchSessionsPaging},
	{"CountSessions", testCountSessions},

	{"RevokeSession", testRevokeSession},
	{"RevokeOtherSessions", testRevokeOtherSessions},
	{"RevokeSession/Effects", testRevokeSessionEffects},
	{"RevokeSession/EffectsRefused", testRevokeSessionEffectsRefused},
	{"RevokeOtherSessions/Effects", testRevokeOthersEffects},
	{"Effects/RollBack", testEffectsRollBack},

	{"RefreshToken/Rotate", testRotateRefreshToken},
	{"RefreshToken/RotateRevoked", testRotateRevoked},

	{"Remembered/Consume", testRememberedConsume},
	{"Remembered/Delete", testRememberedDelete},
	{"Remembered/DeleteForDevice", testRememberedDeleteForDevice},
	{"Remembered/DeleteExcept", testRememberedDeleteExcept},

	{"Audit/AppendAndList", testAudit},
	{"Audit/Chain", testAuditChain},

	{"Outbox", testOutbox},

	{"Password/Change", testChangePassword},
	{"Password/ChangeRefused", testChangePasswordRefused},

	{"TOTP/Lifecycle", testTOTPLifecycle},
	{"TOTP/StepReplay", testTOTPStep},
	{"TOTP/RecoveryCodes", testRecoveryCodes},
	{"TOTP/EnableForgetsRemembered", testEnableTOTPForgets},
	{"TOTP/RewriteSecrets", testRewriteTOTPSecrets},
	{"TOTP/ReplaceRecoveryCodes", testReplaceRecoveryCodes},
	{"TOTP/ReplaceRecoveryCodesRefused", testReplaceRecoveryCodesRefused},
	{"TOTP/ReplaceRecoveryCodesRollBack", testReplaceRecoveryCodesRollBack},
	{"MFAToken", testMFAToken},
	{"Approval/Lifecycle", testApprovalLifecycle},
	{"Concurrent/DecideApproval", testConcurrentDecideApproval},

	{"Concurrent/RevokeSession", testConcurrentRevokeSession},
	{"Concurrent/RevokeOtherSessions", testConcurrentRevokeOthers},
	{"Concurrent/RevokeSessionEffects", testConcurrentRevokeSessionEffects},
	{"Concurrent/RevokeOtherSessionsEffects", testConcurrentRevokeOthersEffects},
	{"Concurrent/RotateRefreshToken", testConcurrentRotate},
	{"Concurrent/RevokeWhileRotating", testConcurrentRevokeWhileRotating},
	{"Concurrent/ConsumeRemembered", testConcurrentConsumeRemembered},
	{"Concurrent/CreateAccount", testConcurrentCreateAccount},
	{"Concurrent/AppendAudit", testConcurrentAppendAudit},
	{"Concurrent/UseTOTPStep", testConcurrentUseTOTPStep},
	{"Concurrent/UseRecoveryCode", testConcurrentUseRecoveryCode},
	{"Concurrent/ConsumeMFAToken", testConcurrentConsumeMFAToken},
	{"Concurrent/ChangePassword", testConcurrentChangePassword},
	{"Concurrent/FailReauth", testConcurrentFailReauth},
	{"Concurrent/AppendOutbox", testConcurrentAppendOutbox},
	{"Concurrent/RenameSession", testConcurrentRenameSession},
	{"Concurrent/ReplaceRecoveryCodes", testConcurrentReplaceRecoveryCodes},
	{"Concurrent/ReplaceRecoveryCodesWhileDisabling", testReplaceRecoveryCodesWhileDisabling},

	{"Closure/RoundTrip", testClosureRoundTrip},
	{"Closure/Tokens", testClosureTokens},
	{"Closure/Issue", testIssueClosureToken},
	{"Closure/RevokeOthers", testClosureRevokeOthers},
	{"Closure/RollBack", testConfirmClosureRollBack},
	{"Concurrent/ConfirmClosure", testConcurrentConfirmClosure},
	{"ListEndedSessions", testListEndedSessions},

	{"Lifecycle/CanceledContext", testCanceledContext},
	{"Lifecycle/Closed", testClosed},
}
