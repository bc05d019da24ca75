package postgres

import (
	"context"
	"errors"
	"sync/atomic"
	"time"

	"sessionguard/api"
	"sessionguard/server/store"
)

// replicas is a store.Store that sends each call to the next of several
// Stores on one database in turn.
type replicas struct {
	all  []*Store
	next atomic.Uint32
}

func newReplicas(all ...*Store) *replicas { return &replicas{all: all} }

func (r *replicas) pick() *Store {
	return r.all[int(r.next.Add(1))%len(r.all)]
}

func (r *replicas) CreateAccount(ctx context.Context, a store.Account) error {
	return r.pick().CreateAccount(ctx, a)
}

func (r *replicas) AccountByUsername(ctx context.Context, username string) (store.Account, error) {
	return r.pick().AccountByUsername(ctx, username)
}

func (r *replicas) Account(ctx context.Context, id string) (store.Account, error) {
	return r.pick().Account(ctx, id)
}

func (r *replicas) ChangePassword(ctx context.Context, c store.PasswordChange) ([]store.Session, int, error) {
	return r.pick().ChangePassword(ctx, c)
}

func (r *replicas) SetTOTPPending(ctx context.Context, accountID, secret string) error {
	return r.pick().SetTOTPPending(ctx, accountID, secret)
}

func (r *replicas) EnableTOTP(ctx context.Context, accountID, secret string, step int64, recoveryHashes [][]byte) (int, error) {
	return r.pick().EnableTOTP(ctx, accountID, secret, step, recoveryHashes)
}

func (r *replicas) DisableTOTP(ctx context.Context, accountID string) (bool, error) {
	return r.pick().DisableTOTP(ctx, accountID)
}

func (r *replicas) UseTOTPStep(ctx context.Context, accountID string, step int64) (bool, error) {
	return r.pick().UseTOTPStep(ctx, accountID, step)
}

func (r *replicas) UseRecoveryCode(ctx context.Context, accountID string, h []byte) (bool, error) {
	return r.pick().UseRecoveryCode(ctx, accountID, h)
}

func (r *replicas) RecoveryCodesLeft(ctx context.Context, accountID string) (int, error) {
	return r.pick().RecoveryCodesLeft(ctx, accountID)
}

func (r *replicas) ReplaceRecoveryCodes(ctx context.Context, accountID string, hashes [][]byte, audit store.CodesAuditFunc) (int, error) {
	return r.pick().ReplaceRecoveryCodes(ctx, accountID, hashes, audit)
}

func (r *replicas) RenameSession(ctx context.Context, accountID, id, name string, audit store.SessionAuditFunc) (store.Session, error) {
	return r.pick().RenameSession(ctx, accountID, id, name, audit)
}

func (r *replicas) UpdateSession(ctx context.Context, accountID, id string, u store.SessionUpdate, events store.SessionEventsFunc) (store.Session, error) {
	return r.pick().UpdateSession(ctx, accountID, id, u, events)
}

func (r *replicas) SetSettings(ctx context.Context, accountID string, st store.Settings, audit store.SettingsAuditFunc) (store.Settings, error) {
	return r.pick().SetSettings(ctx, accountID, st, audit)
}

func (r *replicas) EndIdleSessions(ctx context.Context, sw store.IdleSweep) ([]store.Session, error) {
	return r.pick().EndIdleSessions(ctx, sw)
}

func (r *replicas) RecordUse(ctx context.Context, uses []store.Use) error {
	return r.pick().RecordUse(ctx, uses)
}

func (r *replicas) CreateMFAToken(ctx context.Context, t store.MFAToken) error {
	return r.pick().CreateMFAToken(ctx, t)
}

func (r *replicas) CreateApproval(ctx context.Context, a store.Approval, audit ...api.AuditEvent) error {
	return r.pick().CreateApproval(ctx, a, audit...)
}

func (r *replicas) ApprovalByToken(ctx context.Context, h []byte) (store.Approval, error) {
	return r.pick().ApprovalByToken(ctx, h)
}

func (r *replicas) ApprovalByCode(ctx context.Context, h []byte) (store.Approval, error) {
	return r.pick().ApprovalByCode(ctx, h)
}

func (r *replicas) DecideApproval(ctx context.Context, a store.ApprovalAnswer) (store.Approval, error) {
	return r.pick().DecideApproval(ctx, a)
}

func (r *replicas) ConsumeApproval(ctx context.Context, h []byte) (store.Approval, error) {
	return r.pick().ConsumeApproval(ctx, h)
}

func (r *replicas) MFAToken(ctx context.Context, h []byte, now time.Time) (store.MFAToken, error) {
	return r.pick().MFAToken(ctx, h, now)
}

func (r *replicas) ConsumeMFAToken(ctx context.Context, h []byte, now time.Time) (store.MFAToken, error) {
	return r.pick().ConsumeMFAToken(ctx, h, now)
}

func (r *replicas) CreateSession(ctx context.Context, s store.Session, rt store.RefreshToken, audit ...api.AuditEvent) error {
	return r.pick().CreateSession(ctx, s, rt, audit...)
}

func (r *replicas) Session(ctx context.Context, id string) (store.Session, error) {
	return r.pick().Session(ctx, id)
}

func (r *replicas) SessionByAccessHash(ctx context.Context, h []byte) (store.Session, error) {
	return r.pick().SessionByAccessHash(ctx, h)
}

func (r *replicas) MarkDPoPRefused(ctx context.Context, id string, audit api.AuditEvent) (bool, error) {
	return r.pick().MarkDPoPRefused(ctx, id, audit)
}

func (r *replicas) TouchSession(ctx context.Context, id string, t store.Touch) error {
	return r.pick().TouchSession(ctx, id, t)
}

func (r *replicas) SetAuthTime(ctx context.Context, id string, at time.Time) error {
	return r.pick().SetAuthTime(ctx, id, at)
}

func (r *replicas) ListSessions(ctx context.Context, accountID, excludeID string, now time.Time, after *store.SessionCursor, limit int) ([]store.Session, error) {
	return r.pick().ListSessions(ctx, accountID, excludeID, now, after, limit)
}

func (r *replicas) SearchSessions(ctx context.Context, accountID, excludeID string, now time.Time, q string, after *store.SessionCursor, limit int) ([]store.Session, error) {
	return r.pick().SearchSessions(ctx, accountID, excludeID, now, q, after, limit)
}

func (r *replicas) CountSessions(ctx context.Context, accountID, currentID string, now, activeSince time.Time, q string) (store.SessionCount, error) {
	return r.pick().CountSessions(ctx, accountID, currentID, now, activeSince, q)
}

func (r *replicas) RevokeSession(ctx context.Context, accountID, id string, rev store.Revocation, fx store.RevokeEffects) (store.Session, error) {
	return r.pick().RevokeSession(ctx, accountID, id, rev, fx)
}

func (r *replicas) RevokeOtherSessions(ctx context.Context, accountID, keepID string, rev store.Revocation, fx store.RevokeEffects) ([]store.Session, error) {
	return r.pick().RevokeOtherSessions(ctx, accountID, keepID, rev, fx)
}

func (r *replicas) ListEndedSessions(ctx context.Context, accountID string, since time.Time, after *store.EndedCursor, limit int) ([]store.Session, error) {
	return r.pick().ListEndedSessions(ctx, accountID, since, after, limit)
}

func (r *replicas) IssueClosureToken(ctx context.Context, id string, h []byte, at time.Time) error {
	return r.pick().IssueClosureToken(ctx, id, h, at)
}

func (r *replicas) ConfirmClosure(ctx context.Context, h []byte, at time.Time, erased bool, audit store.SessionAuditFunc) (store.Session, error) {
	return r.pick().ConfirmClosure(ctx, h, at, erased, audit)
}

func (r *replicas) RefreshToken(ctx context.Context, h []byte) (store.RefreshToken, error) {
	return r.pick().RefreshToken(ctx, h)
}

func (r *replicas) RotateRefreshToken(ctx context.Context, rot store.Rotation) error {
	return r.pick().RotateRefreshToken(ctx, rot)
}

func (r *replicas) CreateRemembered(ctx context.Context, rem store.Remembered) error {
	return r.pick().CreateRemembered(ctx, rem)
}

func (r *replicas) ConsumeRemembered(ctx context.Context, h []byte, now time.Time) (store.Remembered, error) {
	return r.pick().ConsumeRemembered(ctx, h, now)
}

func (r *replicas) DeleteRemembered(ctx context.Context, h []byte) (store.Remembered, error) {
	return r.pick().DeleteRemembered(ctx, h)
}

func (r *replicas) DeleteRememberedForDevice(ctx context.Context, accountID, deviceID string) (int, error) {
	return r.pick().DeleteRememberedForDevice(ctx, accountID, deviceID)
}

func (r *replicas) DeleteRememberedExcept(ctx context.Context, accountID, exceptDeviceID string) (int, error) {
	return r.pick().DeleteRememberedExcept(ctx, accountID, exceptDeviceID)
}

func (r *replicas) AppendAudit(ctx context.Context, accountID string, events ...api.AuditEvent) (int64, error) {
	return r.pick().AppendAudit(ctx, accountID, events...)
}

func (r *replicas) AuditSince(ctx context.Context, accountID string, afterSeq int64, limit int) ([]api.AuditEvent, error) {
	return r.pick().AuditSince(ctx, accountID, afterSeq, limit)
}

func (r *replicas) AuditHead(ctx context.Context, accountID string) (api.AuditHead, error) {
	return r.pick().AuditHead(ctx, accountID)
}

func (r *replicas) WalkAudit(ctx context.Context, fn func(accountID string, e api.AuditEvent) error) error {
	return r.pick().WalkAudit(ctx, fn)
}

func (r *replicas) WalkAuditHeads(ctx context.Context, fn func(api.AuditHead) error) error {
	return r.pick().WalkAuditHeads(ctx, fn)
}

func (r *replicas) ListAudit(ctx context.Context, accountID string, beforeSeq int64, limit int) ([]store.AuditRecord, error) {
	return r.pick().ListAudit(ctx, accountID, beforeSeq, limit)
}

func (r *replicas) RewriteTOTPSecrets(ctx context.Context, fn func(string) (string, bool, error)) (int, error) {
	return r.pick().RewriteTOTPSecrets(ctx, fn)
}

func (r *replicas) FailReauth(ctx context.Context, id string) (int, error) {
	return r.pick().FailReauth(ctx, id)
}

func (r *replicas) KnownInstall(ctx context.Context, accountID string, h []byte) (bool, error) {
	return r.pick().KnownInstall(ctx, accountID, h)
}

func (r *replicas) AccountCount(ctx context.Context) (int, error) { return r.pick().AccountCount(ctx) }

func (r *replicas) Purge(ctx context.Context, now, before time.Time) (store.PurgeCounts, error) {
	return r.pick().Purge(ctx, now, before)
}

func (r *replicas) AppendOutbox(ctx context.Context, at time.Time, data []byte) (int64, error) {
	return r.pick().AppendOutbox(ctx, at, data)
}

func (r *replicas) ReadOutbox(ctx context.Context, after int64, limit int) ([]store.OutboxEntry, error) {
	return r.pick().ReadOutbox(ctx, after, limit)
}

func (r *replicas) OutboxHead(ctx context.Context) (int64, error) { return r.pick().OutboxHead(ctx) }

func (r *replicas) Ping(ctx context.Context) error { return r.pick().Ping(ctx) }

func (r *replicas) Close() error {
	var errs []error
	for _, s := range r.all {
		errs = append(errs, s.Close())
	}
	return errors.Join(errs...)
}
